"""Classroom mode on a projector: every page, at 1280×720 (a common projector) and 1920×1080,
with the trained default model and each page's main action pressed, must be readable from
the back of the room (the same walk then checks every page without classroom mode, as
tests/browser/test_pages.py's "after training" check did):

* no text cut off by its box (metric labels, buttons, checkbox labels: ``kit.clipped_texts``);
* no chart text running past the chart's edge (``kit.chart_texts_outside``);
* every chart's tick labels at least 16 px (Streamlit's theme would shrink them to ~12 px);
* the Home loop picture's words inside their boxes;
* the sidebar collapses completely, giving the page the screen;
* no developer toolbar ("Deploy") and no traceback for the class.

The pages are found from the navigation, so a page added to app.py is checked too.
"""
from __future__ import annotations

import time
import tomllib

import pytest

from tests.browser import kit
from tests.browser.test_pages import CHARTS_AFTER_TRAINING, RUN_BUTTONS, _slug

SIZES = [(1280, 720), (1920, 1080)]
MIN_TICK_PX = 16


def _loop_texts_outside_boxes(page) -> list[str]:
    """Home's loop picture: each step's text must lie inside one of the drawn boxes."""
    return page.evaluate(r"""
() => {
  const plot = document.querySelector("[data-testid='stPlotlyChart'] .js-plotly-plot");
  if (!plot) return ['no loop picture'];
  const boxes = Array.from(plot.querySelectorAll('.shapelayer path'))
    .map(p => p.getBoundingClientRect()).filter(r => r.width > 20 && r.height > 20);
  const bad = [];
  for (const t of plot.querySelectorAll('.textpoint text')) {
    const r = t.getBoundingClientRect();
    const inside = boxes.some(b => r.left >= b.left - 1 && r.right <= b.right + 1
                                   && r.top >= b.top - 1 && r.bottom <= b.bottom + 1);
    if (!inside) bad.push(t.textContent);
  }
  return bad;
}""")


def _check_readable(page, where: str, problems: list[str]) -> None:
    kit.assert_no_exception(page, where)
    for c in kit.clipped_texts(page):
        problems.append(f"{where}: clipped {c['text']!r} ({c['scrollWidth']} px in "
                        f"{c['clientWidth']} px, {c['testid']})")
    for c in kit.chart_texts_outside(page):
        problems.append(f"{where}: chart {c['chart']!r} text {c['text']!r} runs "
                        f"{max(c['past_left'], c['past_right'])} px past its edge")
    small = [t for t in kit.tick_font_sizes(page) if t["size"] < MIN_TICK_PX]
    if small:
        charts = sorted({t["chart"] for t in small})
        problems.append(f"{where}: {len(small)} tick labels under {MIN_TICK_PX} px "
                        f"(smallest {min(t['size'] for t in small)} px) in {charts}")


def _classroom_toggle(page):
    return page.locator("[data-testid='stSidebar'] [data-testid='stCheckbox']") \
        .filter(has_text="Classroom mode").locator("label")


def _at_size(page, size) -> None:
    """Resize the window and wait until the page has laid itself out again: the charts'
    drawn sizes (Streamlit's charts follow their container, Plotly redraws after a resize)
    stay the same over two readings, then a moment for Plotly's text."""
    if page.viewport_size == {"width": size[0], "height": size[1]}:
        return
    page.set_viewport_size({"width": size[0], "height": size[1]})
    last, deadline = None, time.monotonic() + 30
    while time.monotonic() < deadline:
        page.wait_for_timeout(300)
        now = _chart_boxes(page)
        if now == last:
            break
        last = now
    kit.wait_until(page, lambda: True, what="the page to settle after the resize")
    page.wait_for_timeout(300)


def _chart_boxes(page) -> list:
    """Width and height of each Plotly chart's drawn svg and of the main block."""
    return page.evaluate("""() => [document.querySelector("[data-testid='stMainBlockContainer']")
        ?.getBoundingClientRect().width].concat(Array.from(document.querySelectorAll(
        "[data-testid='stPlotlyChart'] svg.main-svg")).map(s => {
          const r = s.getBoundingClientRect(); return [Math.round(r.width), Math.round(r.height)];
        }))""")


@pytest.mark.timeout(1200)
def test_every_page_after_training_reads_from_the_back_in_classroom_mode(new_session, base_url):
    """One session with the trained default model walks every page twice.

    1. Classroom mode (``?classroom=1``): each page's main action pressed (no exception after
       each press, the charts test_pages.CHARTS_AFTER_TRAINING asks for drawn), then read at
       1280×720 and, resized, at 1920×1080 (every readability check at both sizes).
    2. Classroom mode off (the sidebar toggle; the advanced controls come back) at
       1400×1000: every page again as a student sees it, with the results the session kept
       (no exception, the same charts drawn).

    One walk with the actions instead of one per viewport and one more without classroom mode
    (the actions' jobs, Compare scorers and Lottery tickets, take most of a walk's time)."""
    _, page = new_session(viewport=SIZES[0])
    kit.open_app(page, base_url, "prune", "classroom=1")
    kit.click(page, page.get_by_role("button", name="Use a trained default model"), timeout=300)
    assert page.get_by_role("button", name="Deploy").count() == 0, "developer toolbar shown"
    titles = [title.split("\n")[-1] for title, _ in kit.nav_links(page)]
    assert len(titles) >= 6, titles
    problems: list[str] = []
    ticks_seen = {size: 0 for size in SIZES}
    charts_seen = {}
    for i, title in enumerate(titles):
        kit.go_to_page(page, title)
        where = f"{title} (after training, classroom mode)"
        kit.assert_no_exception(page, where)
        for button in RUN_BUTTONS.get(title, []):
            target = page.get_by_role("button", name=button, exact=True)
            if target.count():
                kit.click(page, target.first, timeout=300)
                kit.assert_no_exception(page, f"{where}, after pressing {button!r}")
        charts = kit.assert_charts_rendered(page, minimum=CHARTS_AFTER_TRAINING.get(title, 0),
                                            where=where)
        charts_seen[title] = len(charts)
        page.wait_for_timeout(500)  # Plotly lays out its text after the chart mounts
        # alternate the order of the two sizes: one resize per page
        for size in (SIZES if i % 2 == 0 else SIZES[::-1]):
            _at_size(page, size)
            _check_readable(page, f"{title} at {size[0]}×{size[1]}", problems)
            ticks_seen[size] += len(kit.tick_font_sizes(page))
            if title == "Home":
                outside = _loop_texts_outside_boxes(page)
                if outside:
                    problems.append(f"Home at {size[0]}×{size[1]}: loop picture text outside "
                                    f"its box: {outside}")
            kit.screenshot(page, f"classroom-{size[0]}x{size[1]}-{kit_slug(title)}")
    for size, seen in ticks_seen.items():
        assert seen > 50, f"only {seen} tick labels seen at {size}: were the charts drawn?"
    assert not problems, "\n".join(problems)

    # 2. as a student sees it without classroom mode: every page with the kept results
    _at_size(page, (1400, 1000))
    kit.act(page, lambda: _classroom_toggle(page).click())
    kit.wait_until(page, lambda: "classroom=1" not in page.url, what="classroom mode off")
    for title in titles:
        kit.go_to_page(page, title)
        where = f"{title} (after training)"
        kit.assert_no_exception(page, where)
        kit.assert_charts_rendered(page, minimum=CHARTS_AFTER_TRAINING.get(title, 0), where=where)
        kit.screenshot(page, f"trained-{_slug(title)}")
    kit.dump_json("charts-per-page.json", charts_seen)


def kit_slug(title: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in title.lower()).strip("-")


@pytest.mark.timeout(300)
def test_sidebar_collapses_completely_in_classroom_mode(page, base_url):
    page.set_viewport_size({"width": 1280, "height": 720})
    kit.open_app(page, base_url, "", "classroom=1")
    main = page.locator("[data-testid='stMainBlockContainer']")
    before = main.bounding_box()["width"]
    sidebar = page.locator("[data-testid='stSidebar']")
    sidebar.hover()  # Streamlit shows the « button while the pointer is over the sidebar
    sidebar.locator("[data-testid='stSidebarCollapseButton'] button").click()

    def folded() -> bool:
        box = sidebar.bounding_box()
        return box is None or box["width"] < 5 or box["x"] + box["width"] <= 1

    kit.wait_until(page, folded, what="the sidebar to fold away")
    page.wait_for_timeout(600)  # the page widens with a transition
    after = main.bounding_box()["width"]
    # The page content gets (almost) the whole 1280 px: only its own small margins remain.
    assert after >= 1280 - 2 * 1.5 * 18 - 20, (before, after)
    assert after > before + 200, (before, after)
    kit.screenshot(page, "classroom-1280x720-sidebar-collapsed")


def test_the_class_sees_no_toolbar_and_no_traceback():
    """The shipped server config: a minimal toolbar (no Deploy / rerun / clear cache) and
    error details in the server log only."""
    config = tomllib.loads((kit.ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["toolbarMode"] == "minimal"
    assert config["client"]["showErrorDetails"] == "none"
