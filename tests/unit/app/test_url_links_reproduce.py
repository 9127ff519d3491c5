"""Links that reproduce: every setting that changes a number goes value -> query -> value,
bad values are ignored with a notice, and a link carries classroom mode only when asked."""
from dataclasses import fields, replace

import pytest

from pruning.app.url_state import (
    FT_BATCH_SIZES,
    FT_LEARNING_RATES,
    PROPS,
    SCORERS,
    WIDGET_BINDINGS,
    AppSettings,
    encode_settings,
    parse_query_params,
    settings_from_widgets,
    share_query,
    widget_values,
)

# One non-default value per setting added for reproducible links (and a second, edge one).
CUSTOM = {
    "epochs": (10, 0), "train_size": (200, 100_000), "label_noise": (0.2, 1.0),
    "noise": (0.35, 0.0), "lr": (0.0123, 1.0), "optimizer": ("sgd", "sgd"),
    "batch_size": (17, 4096), "weight_decay": (1e-4, 0.5),
    "ft_epochs": (3, 200), "ft_lr": (1e-2, FT_LEARNING_RATES[0]), "ft_optimizer": ("sgd", "sgd"),
    "ft_momentum": (0.55, 0.99), "ft_batch": (64, FT_BATCH_SIZES[0]),
    "it_epochs": (6, 0), "it_rewind": (True, True), "it_rewind_epochs": (4, 100),
    "it_oneshot": (False, False), "it_baseline": (True, True),
    "sc_seeds": (2, 10), "sc_ft_epochs": (0, 50), "sc_sparsity": (95, 5), "sc_mv_epochs": (1, 50),
    # Compare scorers' list, Prune, Lottery, Structured, Threshold basics, Generalization,
    # the lesson and What shrank?
    "sc_scorers": (("magnitude", "snip"), tuple(SCORERS)),
    "include_output": (False, False), "start": ("dense", "dense"),
    "lt_rounds": (2, 8), "lt_rate": (20, 80), "lt_epochs": (3, 100), "lt_rewind": (1, 99),
    "st_method": ("taylor", "sum:snip"), "st_fraction": (75, 0), "st_ft_epochs": (0, 50),
    "st_budget_fracs": ((25,), (90, 25, 50, 75)), "st_budget_method": ("l2", "random"),
    "st_budget_ft": (1, 50), "st_sens_scorer": ("snip", "random"), "st_sens_tol": (2.5, 10.0),
    "ex_weights": ((0.1, -0.25, 0.3, 0.4), (-10.0, 10.0, 0.0, 1e-3)), "ex_t": (0.25, 0.0),
    "thr_layer": ("layers.0.weight", "net.fc2.weight"), "thr_t": (0.012, 0.0),
    "thr_target": (80, 0), "thr_global": (0.02, 1.5),
    "gl_preset": ("mnist1d", "article-2d"), "gl_levels": ((0.5, 0.9), (0.99,)),
    "gl_seeds": (2, 5), "gl_rewind": (True, False), "gl_epochs": (50, 1000), "gl_ft": (0, 1000),
    "gl_patience": (3, 1000), "gl_controls": (("random",), ()),
    "ls_sparsity": (95.5, 50.0), "ls_ft_epochs": (3, 50), "sh_finetune": (False, False),
    "ls_again": (98.0, 99.5),
}


def test_every_setting_of_the_settings_object_has_a_row_and_a_widget():
    names = [f.name for f in fields(AppSettings)]
    assert [p.name for p in PROPS] == names
    for name in CUSTOM:
        assert name in names and WIDGET_BINDINGS.get(name), name


@pytest.mark.parametrize("name", sorted(CUSTOM))
@pytest.mark.parametrize("which", [0, 1])
def test_each_setting_round_trips_alone(name, which):
    settings = replace(AppSettings(), **{name: CUSTOM[name][which]})
    params = encode_settings(settings)
    assert name in params                         # a changed setting is in the link
    parsed, notices = parse_query_params(params)
    assert notices == [] and parsed == settings


def test_all_settings_at_once_round_trip_and_defaults_stay_out_of_the_link():
    settings = replace(AppSettings(), **{k: v[0] for k, v in CUSTOM.items()})
    parsed, notices = parse_query_params(encode_settings(settings))
    assert notices == [] and parsed == settings
    assert not set(CUSTOM) & set(encode_settings(AppSettings()))   # short default link


def test_a_link_opens_the_widgets_with_its_values():
    settings = replace(AppSettings(), epochs=10, train_size=200, ft_lr=0.01, it_oneshot=False,
                       sc_seeds=2)
    parsed, _ = parse_query_params(encode_settings(settings))
    seeded = widget_values(parsed, {"epochs", "train_size", "ft_lr", "it_oneshot", "sc_seeds"},
                           WIDGET_BINDINGS, {})
    assert seeded == {"set_epochs": 10, "set_train_size": 200, "ft_lr": 0.01,
                      "it_oneshot": False, "sc_seeds": 2}


@pytest.mark.parametrize("name, value", [
    ("epochs", "501"), ("epochs", "ten"), ("train_size", "-1"), ("label_noise", "1.5"),
    ("lr", "nan"), ("optimizer", "rmsprop"), ("batch_size", "0"), ("weight_decay", "inf"),
    ("ft_lr", "0.02"), ("ft_batch", "33"), ("ft_momentum", "1"), ("it_epochs", "101"),
    ("it_rewind", "maybe"), ("it_oneshot", "2"), ("sc_seeds", "0"), ("sc_seeds", "11"),
    ("sc_sparsity", "100"), ("sc_mv_epochs", "0"),
])
def test_bad_values_are_ignored_with_a_clear_notice(name, value):
    parsed, notices = parse_query_params({name: value, "seed": "4"})
    assert parsed == replace(AppSettings(), seed=4)
    assert len(notices) == 1 and notices[0].startswith(f"Ignored `{name}`=`{value}`: ")


@pytest.mark.parametrize("classroom_here", [False, True])
def test_a_link_never_carries_classroom_unless_asked(classroom_here):
    settings = replace(AppSettings(), classroom=classroom_here, epochs=10)
    students = share_query(settings)
    assert "classroom" not in students and students["epochs"] == "10"
    assert share_query(settings, classroom=False) == students
    projector = share_query(settings, classroom=True)
    assert projector["classroom"] == "1"
    assert {k: v for k, v in projector.items() if k != "classroom"} == students
    assert parse_query_params(projector)[0] == replace(settings, classroom=True)
    assert parse_query_params(students)[0] == replace(settings, classroom=False)


def test_a_link_seeds_the_widget_of_its_layer_and_of_its_experiment():
    """Keys that depend on another setting (Threshold basics keeps one threshold per layer,
    the Generalization lab its knobs per experiment) are seeded for the link's choice."""
    settings, _ = parse_query_params({"thr_layer": "net.2.weight", "thr_t": "0.015",
                                      "gl_preset": "mnist1d", "gl_seeds": "2",
                                      "gl_levels": "0.5,0.9", "ex_weights": "0.1,0.2,0.3,0.4"})
    seeded = widget_values(settings, {"thr_layer", "thr_t", "gl_preset", "gl_seeds",
                                      "gl_levels", "ex_weights"}, WIDGET_BINDINGS, {})
    assert seeded["thr_layer"] == "net.2.weight" and seeded["thr_layer_t:net.2.weight"] == 0.015
    assert seeded["gl_preset"] == "mnist1d" and seeded["gl_seeds_mnist1d"] == 2
    assert seeded["gl_levels_mnist1d"] == [0.5, 0.9]
    assert [seeded[f"thr_w{i}"] for i in range(4)] == [0.1, 0.2, 0.3, 0.4]


def test_choosing_another_layer_or_experiment_drops_the_values_that_belonged_to_the_old_one():
    settings = replace(AppSettings(), thr_layer="a.weight", thr_t=0.01, gl_seeds=2, gl_ft=7)
    seen = {"thr_layer": "a.weight", "gl_preset": "digits-noisy"}
    state = {"thr_layer": "b.weight", "gl_preset": "mnist1d"}
    new, changed, _ = settings_from_widgets(state, seen, settings, WIDGET_BINDINGS)
    assert (new.thr_layer, new.thr_t) == ("b.weight", None)
    assert (new.gl_preset, new.gl_seeds, new.gl_ft) == ("mnist1d", None, None)
    assert {"thr_t", "gl_seeds", "gl_ft"} <= changed
    assert "thr_t" not in encode_settings(new) and "gl_seeds" not in encode_settings(new)


def test_a_link_cannot_put_a_value_its_widget_does_not_offer():
    """Menus and ranges follow the widgets (a multiselect given an option it does not have
    would stop the page): such values are ignored with a notice."""
    for name, value in (("gl_levels", "0.33"), ("st_budget_fracs", "30"), ("lt_rate", "52"),
                        ("sc_scorers", "magnitude,magnitude"), ("st_sens_scorer", "ablation"),
                        ("ex_weights", "1,2,3"), ("ls_sparsity", "95.3"), ("thr_layer", "a/b")):
        settings, notices = parse_query_params({name: value})
        assert len(notices) == 1 and getattr(settings, name) == getattr(AppSettings(), name), \
            (name, value, notices)
