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


def test_page_summary_csv_and_report_give_the_same_numbers():
    import io

    import pandas as pd

    from pruning.labs.prune_step import describe_prune_config
    from pruning.present import exports
    from pruning.present import shrink as shrank_view
    from ui.tradeoff import cached_tradeoff
    at = with_default_model(new_app(TINY), SHRANK)
    if any(b.proto.id.endswith("shrank_tradeoff_run") for b in at.get("button")):
        click(at, "shrank_tradeoff_run")            # not yet measured on this server
    click(at, "shrank_default_prune")
    ws = at.session_state["workspace"]
    curve = cached_tradeoff(ws.trained)
    result = ws.extras["shrank"]["result"]
    page = [df.value for df in at.dataframe if list(df.value.columns) == list(exports.SUMMARY_PAGE_COLUMNS)]
    assert len(page) == 1
    shown = page[0]
    assert list(shown.columns) == list(exports.SUMMARY_PAGE_COLUMNS)
    tm = ws.trained
    summary = exports.summary_table(
        result, curve, {"data set": tm.data_config.name,
                        "model": "mlp " + ",".join(map(str, tm.model_config.hidden)),
                        "trained epochs": tm.train_config.epochs,
                        "training seed": tm.train_config.seed},
        describe_prune_config(ws.pruned.prune_config), f"{len(ws.finetuned.history)} epochs")
    assert set(summary["source"]) == {"trade-off curve", "this session's model"}
    assert len(summary) == len(curve.points) + 6
    # The page shows these rows and columns; the CSV is the whole table, same numbers.
    pd.testing.assert_frame_equal(shown.reset_index(drop=True),
                                  summary[list(exports.SUMMARY_PAGE_COLUMNS)].reset_index(drop=True),
                                  check_dtype=False)
    csv = pd.read_csv(io.StringIO(summary.to_csv(index=False)))
    for col in ("test accuracy (%)", "stored size (KB)", "µs per example"):
        assert csv[col].tolist() == shown[col].tolist()
    # The report shows the same table and opens with the curve's sentence.
    html = shrank_view.report_html(result, {"data set": "digits"}, lead_sections=[],
                                   lead=view.verdict_sentence(curve), summary=summary)
    assert html.index(view.verdict_sentence(curve).split(":")[0]) < html.index("Summary: one row")
    for v in summary["stored size (KB)"]:
        assert f">{v:,.4g}<" in html
    # The headline on the page is the report's.
    assert f"#### {shrank_view.headline(result)}" in [m.value for m in at.markdown]
