"""AppTest checks of the trade-off curve on the "What shrank?" page: measured on request with
a progress bar, then the same points for every later visit (a server-wide store per model)."""
from pruning.present import tradeoff as view
from tests.pages.kit import SHRANK, chart, click, goto, new_app, with_default_model

TINY = {"hidden": "16,8", "seed": "5"}


def _sentence(at) -> list[str]:
    return [m.value for m in at.markdown if "of the weights" in m.value and
            ("can go for at most" in m.value or "None of the measured" in m.value)]


def test_the_curve_is_measured_once_and_shown_the_same_on_the_next_visit():
    at = with_default_model(new_app(TINY), SHRANK)
    assert at.button(key="shrank_tradeoff_run")              # not measured yet: offered
    assert not _sentence(at)
    click(at, "shrank_tradeoff_run")
    from ui.tradeoff import cached_tradeoff
    curve = cached_tradeoff(at.session_state["workspace"].trained)
    assert curve is not None
    assert _sentence(at) == [f"**{view.verdict_sentence(curve)}**"]
    size = chart(at, "shrank_curve_size")
    n_markers = sum(len(tr["x"]) for tr in size["data"]
                    if tr.get("mode") == "markers+lines" or tr.get("name") == "dense (trained)")
    assert n_markers == len(curve.points)
    assert chart(at, "shrank_curve_latency")["layout"]["xaxis"]["title"]["text"].startswith(
        "µs per example")
    # Another session with the same model: no button, the very same numbers.
    other = with_default_model(new_app(TINY), SHRANK)
    assert not [b for b in other.get("button") if b.proto.id.endswith("shrank_tradeoff_run")]
    assert _sentence(other) == _sentence(at)
    assert chart(other, "shrank_curve_latency")["data"] == chart(at, "shrank_curve_latency")["data"]
    goto(other, SHRANK)
    assert _sentence(other) == _sentence(at)
