"""The guided lesson in a real browser, as a teacher runs it on a 1280×720 projector with
classroom mode on (``?classroom=1``) and the default model: every step's action is pressed,
Next is followed to the end, the link carries the step, nothing is clipped and no exception
box appears. A screenshot of every step goes to test-artifacts/screenshots/lesson-N.png."""
from __future__ import annotations

import re

import pytest

from pruning.present.lesson import N_STEPS, STEPS
from tests.browser import kit

VIEWPORT = (1280, 720)

#: Text elements of the main area whose content is cut off: wider than their box
#: (``scrollWidth > clientWidth``) while their box hides the overflow or shows an ellipsis.
CLIPPED_JS = """() => {
  const sel = ["h1", "h2", "h3", "h4", "label", "button", "summary",
               "[data-testid='stMetricLabel']", "[data-testid='stMetricLabel'] p",
               "[data-testid='stMetricLabel'] div", "[data-testid='stMetricValue']", "button p",
               "[data-testid='stMarkdownContainer'] p", "[data-testid='stCaptionContainer']",
               "[data-testid='stPageLink-NavLink']", "[data-testid='stProgress'] p"].join(",");
  const main = document.querySelector("[data-testid='stMain']") || document.body;
  const out = [];
  for (const el of main.querySelectorAll(sel)) {
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height) continue;                       // not shown
    if (el.scrollWidth > el.clientWidth + 1) {
      const cs = getComputedStyle(el);
      out.push({tag: el.tagName, text: (el.innerText || "").slice(0, 60),
                scroll: el.scrollWidth, client: el.clientWidth, overflow: cs.overflowX,
                ellipsis: cs.textOverflow});
    }
  }
  return out;
}"""

ACTIONS = {
    "train": r"Use a trained default model",
    "prune": r"Prune \d",
    "finetune": r"Fine-tune \d+ epochs",
    "repeat": r"and fine-tune$",
}


def clipped(page) -> list[dict]:
    return page.evaluate(CLIPPED_JS)


def step_in_url(page) -> str | None:
    m = re.search(r"[?&]step=(\d+)", page.url)
    return m.group(1) if m else None


@pytest.mark.timeout(900)
def test_the_lesson_start_to_finish_on_a_1280x720_projector(new_session, base_url):
    _, page = new_session(VIEWPORT)
    kit.open_app(page, base_url, "lesson", "classroom=1")
    for n in range(1, N_STEPS + 1):
        step = STEPS[n - 1]
        kit.wait_until(page, lambda: page.get_by_role("heading", name=re.compile(
            rf"{n} · {re.escape(step.title)}")).count() > 0, timeout=120, what=f"step {n}")
        if step.key in ACTIONS:
            button = page.get_by_role("button", name=re.compile(ACTIONS[step.key]))
            kit.click(page, button, timeout=300)
        kit.assert_no_exception(page, f"lesson step {n}")
        assert not kit.error_texts(page), (n, kit.error_texts(page))
        assert not clipped(page), (n, clipped(page))
        if n > 1:
            assert step_in_url(page) == str(n), page.url
        assert "classroom=1" in page.url
        kit.screenshot(page, f"lesson-{n}")
        if n < N_STEPS:
            kit.click(page, page.get_by_role("button", name="Next →").first)
    # the last step measured the files and says what shrank
    assert page.get_by_text(re.compile(r"of the weights removed")).count() > 0
    kit.assert_charts_rendered(page, minimum=1, where="lesson step 8")
    # the teacher may hide the settings: nothing clipped that way either
    page.locator("[data-testid='stSidebar']").hover()  # the button shows on hover
    page.get_by_role("button", name="Collapse sidebar").click()
    page.wait_for_timeout(500)
    assert not clipped(page), ("sidebar closed", clipped(page))
    # presenter notes open and hold the question for the room
    page.get_by_text("Presenter notes").first.click()
    kit.wait_until(page, lambda: page.get_by_text("Ask the room:").count() > 0, what="notes")
    assert not clipped(page)
    kit.screenshot(page, "lesson-notes")


@pytest.mark.timeout(300)
def test_a_lesson_link_opens_the_same_step_in_a_fresh_browser(new_session, base_url):
    _, page = new_session(VIEWPORT)
    kit.open_app(page, base_url, "lesson", "step=4&classroom=1")
    kit.wait_until(page, lambda: page.get_by_role("heading", name=re.compile(
        r"4 · The drop")).count() > 0, what="step 4")
    kit.click(page, page.get_by_role("button", name="Catch up"), timeout=300)
    kit.assert_no_exception(page, "caught up")
    dense = kit.number_in(kit.metric_value(page, "Dense: test"))
    pruned = kit.number_in(kit.metric_value(page, "Pruned: test"))
    assert pruned < dense
    assert step_in_url(page) == "4"
    assert not clipped(page), clipped(page)
