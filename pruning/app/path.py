"""The one path through the app a student alone follows, page by page: the lesson's story
(four weights → train → prune → fine-tune → repeat → what shrank), with the deeper pages as
stops on the way. Every page ends with a "Next step →" link to the stop after it
(``ui.next_step``); the guided lesson (``pruning.present.lesson``) walks the same story on
one page.

Pages are named by their script (``pages/prune.py``) and their URL path (``prune``), which is
how Streamlit's navigation names them (the default page, Home, has the URL path ``""``).
Pure data: no Streamlit.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Stop:
    """One page on the path: its script, its title, and why to go there next."""

    page: str
    title: str
    why: str

    @property
    def url_path(self) -> str:
        return "" if self.page == "pages/home.py" else self.page.rsplit("/", 1)[-1][:-3]


PATH: tuple[Stop, ...] = (
    Stop("pages/home.py", "Home", "what pruning is, and the loop"),
    Stop("pages/threshold.py", "Threshold basics", "four weights and one threshold"),
    Stop("pages/train.py", "Train", "train the network we will prune"),
    Stop("pages/prune.py", "Prune", "remove 90 % of the weights and watch the drop"),
    Stop("pages/finetune.py", "Fine-tune", "win the accuracy back"),
    Stop("pages/iterate.py", "Iterate", "repeat: prune a little, fine-tune, prune again"),
    Stop("pages/scorers.py", "Compare scorers", "which weights matter: magnitude or gradients?"),
    Stop("pages/structured.py", "Structured & sensitivity", "remove whole neurons instead"),
    Stop("pages/lottery.py", "Lottery tickets", "rewind the survivors and retrain"),
    Stop("pages/generalization.py", "Generalization lab", "does pruning reduce overfitting?"),
    Stop("pages/shrank.py", "What shrank?", "what pruning really saves"),
)

#: Pages beside the path, and where their "Next step" leads back onto it.
SIDE_PAGES: dict[str, str] = {
    "pages/runs.py": "pages/shrank.py",
}
#: Pages that draw their own way on (the lesson has Back / Next): no "Next step" link.
OWN_NAVIGATION = ("pages/lesson.py",)


def stop(page: str) -> Stop | None:
    """The path's stop for a script or a URL path (``"pages/prune.py"`` or ``"prune"``)."""
    return next((s for s in PATH if page in (s.page, s.url_path)), None)


def has_next_link(page: str) -> bool:
    """Does ``page`` (a script or URL path) end with a "Next step" link?"""
    return not any(page in (p, p.rsplit("/", 1)[-1][:-3]) for p in OWN_NAVIGATION)


def next_stop(page: str) -> Stop | None:
    """The stop after ``page`` (a script or URL path); None after the last stop. A side page
    leads to the stop named in ``SIDE_PAGES``; an unknown page to the first stop after Home."""
    for side, target in SIDE_PAGES.items():
        if page in (side, side.rsplit("/", 1)[-1][:-3]):
            return stop(target)
    here = stop(page)
    if here is None:
        return PATH[1]
    i = PATH.index(here)
    return PATH[i + 1] if i + 1 < len(PATH) else None
