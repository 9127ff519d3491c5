"""Links that reproduce (issue 14, item 5): a teacher sets a custom experiment (200 training
examples, 10 epochs, label noise, fine-tuning and Iterate options), trains, prunes, fine-tunes
and iterates, switches the projector to classroom mode and copies the *student* link from the
sidebar. A fresh browser context (a new session, own cookies) opens that link, presses the same
buttons, and sees exactly the teacher's numbers, down to the downloaded CSVs."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.browser import kit

TRAIN_BUTTON = re.compile(r"^\W*Train$")
SIDEBAR = "[data-testid='stSidebar']"


def _number(page, label: str, value: int) -> None:
    box = page.get_by_label(label, exact=True)
    kit.act(page, lambda: (box.fill(str(value)), box.press("Enter")))


def _checkbox(page, label: str) -> None:
    box = page.locator("[data-testid='stCheckbox']").filter(has_text=label).first
    kit.act(page, lambda: box.locator("label").click())


def run_the_buttons(page) -> dict:
    """Train, look at Prune, prune 90 % + fine-tune, run Iterate: everything the page shows."""
    kit.go_to_page(page, "Train")
    kit.click(page, page.get_by_role("button", name=TRAIN_BUTTON), timeout=300)
    kit.assert_no_exception(page, "Train")
    seen = {"train": kit.metrics(page),
            "history": kit.download_csv(page, "Download training history (CSV)").to_csv()}
    kit.go_to_page(page, "Prune")
    seen["prune"] = kit.metrics(page)
    kit.go_to_page(page, "Fine-tune")
    kit.click(page, page.get_by_role("button", name=re.compile("Prune the model to 90")))
    kit.click(page, page.get_by_role("button", name="Fine-tune", exact=True), timeout=300)
    kit.assert_no_exception(page, "Fine-tune")
    seen["finetune"] = kit.metrics(page)
    seen["ft history"] = kit.download_csv(page, "Download the fine-tuning history (CSV)").to_csv()
    kit.go_to_page(page, "Iterate")
    kit.click(page, page.get_by_role("button", name="Run the rounds"), timeout=400)
    kit.assert_no_exception(page, "Iterate")
    seen["iterate"] = kit.download_csv(page, "Download the rounds (CSV)").to_csv()
    return seen


@pytest.mark.timeout(1500)
def test_a_student_link_reproduces_the_teachers_numbers(new_session, base_url):
    _, teacher = new_session()
    kit.open_app(teacher, base_url, "train")
    teacher.locator(f"{SIDEBAR} [data-testid='stExpander']") \
        .filter(has_text="Training data knobs").locator("summary").click()
    _number(teacher, "Training epochs", 10)
    _number(teacher, "Training-set size (0 = all)", 200)
    kit.press_on_slider(teacher, "Label noise", "ArrowRight", times=2)       # 0.10
    kit.go_to_page(teacher, "Fine-tune")
    kit.click(teacher, teacher.get_by_role("button", name=re.compile("Prune the model to 90")))
    _number(teacher, "Epochs", 4)
    kit.press_on_slider(teacher, "Learning rate", "ArrowRight")              # 0.001 -> 0.003
    kit.go_to_page(teacher, "Iterate")
    _number(teacher, "Fine-tune epochs in total", 6)
    _checkbox(teacher, "Also run one-shot pruning with the same budget")     # off
    kit.go_to_page(teacher, "Home")
    teacher_seen = run_the_buttons(teacher)

    # The projector goes to classroom mode; the student link must not carry it.
    toggle = teacher.locator(f"{SIDEBAR} [data-testid='stCheckbox']").filter(has_text="Classroom mode")
    kit.act(teacher, lambda: toggle.locator("label").click())
    assert "classroom=1" in teacher.url
    kit.click(teacher, teacher.get_by_role("button", name="Copy link for students"))
    link = teacher.locator(f"{SIDEBAR} [data-testid='stCode'] code").inner_text().strip()
    query = {k: v[-1] for k, v in parse_qs(urlsplit(link).query).items()}
    assert link.startswith(base_url) and "classroom" not in query, link
    expected = {"epochs": "10", "train_size": "200", "label_noise": "0.1", "ft_epochs": "4",
                "ft_lr": "0.003", "it_epochs": "6", "it_oneshot": "0"}
    assert {k: query.get(k) for k in expected} == expected, link
    kit.click(teacher, teacher.get_by_role("button", name="Copy link for the projector"))
    projector = teacher.locator(f"{SIDEBAR} [data-testid='stCode'] code").inner_text().strip()
    assert "classroom=1" in projector

    _, student = new_session()
    kit.goto(student, link)
    kit.assert_no_exception(student, "the student link")
    assert student.locator("[data-testid='stAlert']").filter(has_text="ignored").count() == 0
    student_seen = run_the_buttons(student)

    # Real numbers were read, and the custom settings were used (10 epochs: 11 history rows).
    assert teacher_seen["history"].count("\n") == 10 + 2
    assert len(teacher_seen["finetune"]) >= 2 and teacher_seen["iterate"].count("\n") >= 3
    for name, value in teacher_seen.items():
        assert student_seen[name] == value, f"{name} differs between teacher and student"
