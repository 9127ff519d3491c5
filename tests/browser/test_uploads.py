"""Checkpoint uploads on the "What shrank?" page, from a real browser: files that are not
checkpoints, damaged, of the wrong shapes, carrying code, or too large are refused with a clear
message, nothing in them runs, and the student's current model stays. A real checkpoint
exported by the app loads (so the refusals are not a broken upload path).
"""
from __future__ import annotations

import io
import re
import uuid
from pathlib import Path

import pytest
import torch

from tests.browser import kit

UPLOAD_INPUT = "[data-testid='stFileUploader'] input[type='file']"


class Payload:
    """Unpickling this creates ``path`` (through ``open``): a stand-in for any code an
    attacker would run. ``torch.save`` pickles it with its ``__reduce__``."""

    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def evil_checkpoint(good: dict, side_effect: str) -> bytes:
    obj = dict(good)
    obj["metrics"] = {"dense": {"test_acc": Payload(side_effect)}}
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def wrong_shapes(good: dict) -> bytes:
    obj = dict(good)
    state = dict(obj["state_dict"])
    name = next(k for k, v in state.items() if v.ndim == 2)
    state[name] = torch.zeros(7, 3)
    obj["state_dict"] = state
    obj["masks"] = {k: (v if k != name else torch.ones(7, 3, dtype=torch.bool))
                    for k, v in obj["masks"].items()}
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def upload(page, name: str, data: bytes | Path, rerun: bool = True) -> None:
    """Choose a file in the uploader (bytes, or a path: much faster for large files, the
    browser reads it from disk) and wait for the rerun the upload causes."""
    files = data if isinstance(data, Path) else \
        {"name": name, "mimeType": "application/octet-stream", "buffer": data}
    field = page.locator(UPLOAD_INPUT)
    if rerun:
        kit.act(page, lambda: field.set_input_files(files), timeout=120)
    else:
        field.set_input_files(files)


def current_model(page) -> tuple[str, str]:
    """The two captions naming the session's model: which dense model, which pruned model."""
    working = page.get_by_text("Working on:").first.inner_text()
    pruned = page.get_by_text("Pruned model:").first.inner_text()
    return working, pruned


def refusal(page) -> str:
    errors = [t for t in kit.error_texts(page) if "was not loaded" in t]
    assert len(errors) == 1, f"expected one refusal, errors: {kit.error_texts(page)}"
    assert "Your current model is unchanged" in errors[0]
    return errors[0]


@pytest.mark.timeout(300)
def test_bad_checkpoints_are_refused_and_nothing_runs(page, base_url, tmp_path):
    kit.open_app(page, base_url, "shrank")
    kit.click(page, page.get_by_role("button", name="Use a trained default model"), timeout=180)
    kit.click(page, page.get_by_role("button", name="Prune 90 % now (global magnitude)"),
              timeout=180)
    kit.assert_no_exception(page, "What shrank?")
    before = current_model(page)
    assert "90.0 %" in before[1], before

    name, good_bytes = kit.download(page, "⬇️ Pruned model (.pt)")
    assert name.endswith(".pt") and len(good_bytes) > 10_000
    good = torch.load(io.BytesIO(good_bytes), weights_only=True)

    # The payload is live: unpickled the unsafe way (here, in the test), it creates its file.
    proof = tmp_path / f"proof-{uuid.uuid4().hex}"
    torch.load(io.BytesIO(evil_checkpoint(good, str(proof))), weights_only=False)
    assert proof.exists()
    side_effect = Path("/tmp") / f"pruning-playground-pwned-{uuid.uuid4().hex}"

    cases = [
        ("notes.pt", b"These are my lecture notes, not a checkpoint.\n" * 20,
         "not a readable PyTorch checkpoint"),
        ("truncated.pt", good_bytes[: len(good_bytes) // 2], "not a readable PyTorch checkpoint"),
        ("wrong_shapes.pt", wrong_shapes(good), "has shape (7, 3)"),
        ("evil.pt", evil_checkpoint(good, str(side_effect)), "could run code"),
    ]
    for filename, data, reason in cases:
        upload(page, filename, data)
        kit.assert_no_exception(page, f"upload of {filename}")
        message = refusal(page)
        assert filename in message and reason in message, message
        assert current_model(page) == before, f"{filename} changed the current model"
    assert not side_effect.exists(), "the pickle's code ran on the server"
    kit.screenshot(page, "upload-refused")

    # Too large: refused before it is sent (the widget's limit), with a visible message.
    runs = kit.completed_runs(page)
    huge = tmp_path / "huge.pt"
    huge.write_bytes(b"\0" * (26 * 2**20))
    upload(page, "huge.pt", huge, rerun=False)
    chip = page.locator("[data-testid='stFileChip'][aria-invalid='true']")
    chip.get_by_role("alert").filter(has_text=re.compile(r"must be 25(\.0)? ?MB or smaller")) \
        .wait_for(state="visible", timeout=30_000)
    page.wait_for_timeout(1000)
    assert kit.completed_runs(page) == runs, "the oversized file reached the app"
    kit.assert_no_exception(page, "upload of an oversized file")
    assert current_model(page) == before

    # The app's own export loads back: the refusals above are about the files.
    upload(page, "pruned_model.pt", good_bytes)
    kit.assert_no_exception(page, "upload of a real checkpoint")
    assert page.get_by_text("Loaded pruned_model.pt").first.is_visible()
    assert current_model(page)[1] == before[1]
    assert not side_effect.exists()
