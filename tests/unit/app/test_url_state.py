"""Shareable links: settings round-trip through query parameters; hostile values are ignored
with a notice (never an exception)."""
from dataclasses import replace

import pytest

from pruning.app.url_state import (
    MAX_ROUNDS,
    MAX_SHOWN,
    PARAM_NAMES,
    SHOWN_NAMES,
    AppSettings,
    encode_settings,
    parse_query_params,
    validate_settings,
)

NON_DEFAULT = AppSettings(dataset="moons", model="mlp", hidden=(64, 32, 16), seed=1234,
                          scorer="taylor", scope="layer", sparsity=0.735, threshold=None,
                          schedule="gradual", rounds=7, classroom=True)


@pytest.mark.parametrize("settings", [
    AppSettings(),
    NON_DEFAULT,
    replace(NON_DEFAULT, sparsity=None, threshold=0.0123456789, model="cnn", dataset="digits"),
    replace(NON_DEFAULT, sparsity=1.0, scorer="random", schedule="oneshot", rounds=1),
    replace(NON_DEFAULT, sparsity=0.1 + 0.2),   # a float with a long decimal expansion
])
def test_a_link_round_trips_the_settings(settings):
    params = encode_settings(settings)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in params.items())
    parsed, notices = parse_query_params(params)
    assert notices == []
    assert parsed == settings


def test_a_link_overrides_only_what_it_names():
    parsed, notices = parse_query_params({"seed": "7", "threshold": "0.05"})
    assert notices == []
    assert parsed == replace(AppSettings(), seed=7, threshold=0.05, sparsity=None)


def test_classroom_flag_spellings():
    assert parse_query_params({"classroom": "1"})[0].classroom is True
    assert parse_query_params({"classroom": "true"})[0].classroom is True
    assert parse_query_params({"classroom": "0"})[0].classroom is False
    s, notices = parse_query_params({"classroom": "maybe"})
    assert s.classroom is False and len(notices) == 1 and "classroom" in notices[0]
    assert "classroom" not in encode_settings(AppSettings())
    assert encode_settings(AppSettings(classroom=True))["classroom"] == "1"


HOSTILE = [
    ("dataset", "../../etc/passwd", "file path"),
    ("dataset", "..\\..\\windows\\win.ini", "file path"),
    ("dataset", "~root", "file path"),
    ("dataset", "imagenet", "choose one of"),
    ("model", "<script>alert(1)</script>", "HTML markup"),   # not "a file path" for its "/"
    ("model", "<img src=x onerror=alert(1)>", "HTML markup"),
    ("scorer", "[click](javascript:alert(1))", "choose one of"),
    ("seed", "-1", "whole number"),
    ("seed", "1.5", "whole number"),
    ("seed", "99999999999999999999", "whole number"),
    ("seed", "½", "whole number"),
    ("seed", "١٢", "whole number"),          # Arabic-Indic digits: int() would accept them
    ("rounds", "0", "whole number"),
    ("rounds", str(MAX_ROUNDS + 1), "whole number"),
    ("sparsity", "1.5", "from 0 to 1"),
    ("sparsity", "90", "from 0 to 1"),
    ("sparsity", "nan", "from 0 to 1"),
    ("sparsity", "-0.1", "from 0 to 1"),
    ("threshold", "inf", "number"),
    ("threshold", "1e400", "number"),
    ("threshold", "-1", "number"),
    ("hidden", "300,,100", "comma"),
    ("hidden", "0", "from 1"),
    ("hidden", "5000", "from 1"),
    ("hidden", "1,2,3,4,5,6,7", "comma"),
    ("hidden", "3e2", "comma"),
    ("scope", "", "empty"),
    ("schedule", "iterative\x00", "control characters"),
    ("schedule", "x" * 10_000, "characters long"),
]


@pytest.mark.parametrize("name,value,reason", HOSTILE)
def test_hostile_values_are_ignored_with_a_notice(name, value, reason):
    parsed, notices = parse_query_params({name: value})
    assert parsed == AppSettings()            # nothing changed
    assert len(notices) == 1
    assert reason in notices[0]
    assert f"`{name}`" in notices[0]


def test_notices_quote_bad_values_short_and_inert():
    _, notices = parse_query_params({"dataset": "`" * 5000, "x" * 500: "1"})
    for n in notices:
        assert len(n) < 600   # the unknown-name notice lists all 32 setting names
        # every quoted piece is one code span: backticks in the value were replaced
        assert n.count("`") % 2 == 0
    assert any("characters long" in n for n in notices)
    quoted = notices[0].split("`")[3]
    assert len(quoted) <= MAX_SHOWN + 1


def test_unknown_names_are_listed_and_valid_ones_still_apply():
    parsed, notices = parse_query_params({"seed": "3", "foo": "1", "__class__": "x",
                                          "../../etc/passwd": "1"})
    assert parsed.seed == 3
    assert len(notices) == 1
    assert "`foo`" in notices[0] and "`__class__`" in notices[0]
    # tells the user what the app does read: the main settings by name, then how many more
    for name in PARAM_NAMES[:SHOWN_NAMES]:
        assert name in notices[0]
    assert f"and {len(PARAM_NAMES) - SHOWN_NAMES} more" in notices[0]


def test_many_parameters_keep_the_valid_settings_and_say_what_was_dropped():
    """A link with thousands of parameters: the app's own settings (here at the end) are
    still read, and the notice counts the rest without listing them."""
    params = {f"p{i}": "1" for i in range(5000)}
    params.update(seed="7", scorer="random")
    parsed, notices = parse_query_params(params)
    assert (parsed.seed, parsed.scorer) == (7, "random")
    assert len(notices) == 1 and "4,995 more" in notices[0] and "5,002 parameters" in notices[0]
    assert sum(n.count("`p") for n in notices) <= 5    # the unknown list is summarised


def test_repeated_names_use_the_last_value_and_lists_are_accepted():
    parsed, notices = parse_query_params({"seed": ["1", "2"], "scorer": ["random"]})
    assert notices == []
    assert (parsed.seed, parsed.scorer) == (2, "random")


def test_both_sparsity_and_threshold_keep_the_sparsity_with_a_notice():
    parsed, notices = parse_query_params({"sparsity": "0.5", "threshold": "0.1"})
    assert (parsed.sparsity, parsed.threshold) == (0.5, None)
    assert len(notices) == 1 and "both" in notices[0]


def test_non_string_garbage_never_raises():
    for params in ({"seed": None}, {"seed": 3}, {1: 2}, {"hidden": ["", ""]}, {"rounds": []},
                   None, "seed=1", {"dataset": object()}):
        parsed, notices = parse_query_params(params)
        assert isinstance(parsed, AppSettings)
        assert isinstance(notices, list)


def test_validate_settings_flags_a_bad_object():
    assert validate_settings(AppSettings()) == []
    assert validate_settings(replace(AppSettings(), sparsity=None, threshold=None))
    assert validate_settings(replace(AppSettings(), rounds=999))


# ----------------------------------------------------------------------------- widget bindings
from pruning.app.url_state import (  # noqa: E402
    Binding,
    bound_values,
    propagated_values,
    resolve_pending,
    settings_from_widgets,
    widget_values,
)

BINDINGS = {
    "seed": [Binding("seed_box", to_widget=int)],
    "scorer": [Binding("a_scorer"), Binding("b_scorer")],
    "sparsity": [Binding("pct", lambda s: 100 * s, lambda v: repr(v / 100),
                         active=lambda st: st.get("mode", "sparsity") == "sparsity",
                         companions=(("mode", "sparsity"),))],
    "threshold": [Binding("mode", active=lambda st: st.get("mode") == "threshold",
                          read=lambda st: st.get("thr"), seed=False)],
}


def test_only_a_widget_the_user_moved_changes_the_settings():
    base = AppSettings()
    seen = {"seed_box": 0, "a_scorer": "magnitude"}
    # a page opened: b_scorer appeared with its own default -> no change
    state = {"seed_box": 0, "a_scorer": "magnitude", "b_scorer": "random"}
    assert settings_from_widgets(state, seen, base, BINDINGS)[:2] == (base, set())
    # the user moved the seed
    new, changed, pending = settings_from_widgets({**state, "seed_box": 9}, seen, base, BINDINGS)
    assert new.seed == 9 and changed == {"seed"} and not pending


def test_widget_values_go_through_the_link_rules():
    seen = {"seed_box": 0}
    new, changed, _ = settings_from_widgets({"seed_box": -3}, seen, AppSettings(), BINDINGS)
    assert new == AppSettings() and changed == set()      # out of range: ignored


def test_seeding_fills_only_missing_widgets_with_companions():
    s = AppSettings(scorer="taylor", sparsity=0.25, seed=4)
    out = widget_values(s, {"scorer", "sparsity", "seed"}, BINDINGS, {"a_scorer": "random"})
    assert out == {"b_scorer": "taylor", "pct": 25.0, "mode": "sparsity", "seed_box": 4}
    # a setting that is None (the threshold in sparsity mode) seeds nothing
    assert widget_values(s, {"threshold"}, BINDINGS, {}) == {}


def test_a_mode_switch_is_pending_until_its_widget_has_a_value():
    base = AppSettings()
    seen = {"mode": "sparsity", "pct": 90.0}
    state = {"mode": "threshold", "pct": 90.0}            # the threshold slider is not drawn yet
    new, changed, pending = settings_from_widgets(state, seen, base, BINDINGS)
    assert new == base and pending == {"threshold"}
    later, names = resolve_pending({**state, "thr": 0.125}, new, pending, BINDINGS)
    assert (later.threshold, later.sparsity) == (0.125, None) and names == {"sparsity", "threshold"}


def test_bound_values_snapshot_and_dynamic_keys():
    dyn = {"x": [Binding(lambda st: f"slider_{st['scorer']}")]}
    assert bound_values({"scorer": "taylor", "slider_taylor": 3, "other": 1}, dyn) == {"slider_taylor": 3}
    assert bound_values({}, dyn) == {}                      # key function fails: skipped


def test_a_changed_setting_brings_its_other_widgets_along():
    # Prune's scorer moved to magnitude; Iterate's (not drawn now) still holds the ablation
    # it was seeded with a run earlier: it follows, so Iterate opens with magnitude.
    state = {"a_scorer": "magnitude", "b_scorer": "ablation", "pct": 50.0, "mode": "threshold"}
    s = AppSettings(scorer="magnitude", sparsity=0.5)
    assert propagated_values(s, {"scorer"}, BINDINGS, state) == {"b_scorer": "magnitude"}
    # equal values, missing widgets, unchanged settings and modes are left alone
    assert propagated_values(s, {"sparsity"}, BINDINGS, state) == {}
    assert propagated_values(s, {"scorer"}, BINDINGS, {"a_scorer": "magnitude"}) == {}
    assert propagated_values(s, set(), BINDINGS, state) == {}
    assert propagated_values(replace(s, sparsity=0.8), {"sparsity"}, BINDINGS, state) == {"pct": 80.0}
