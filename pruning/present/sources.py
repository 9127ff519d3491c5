"""The "Sources" list each page ends with: the article the app teaches from, and the papers
the page's methods come from, each with a link a reader can follow.

The article ("Understanding Pruning in Deep Learning") is the text the lessons quote; it has no
public address, so it is named, never linked. Every paper has a stable link (arXiv or the
NeurIPS proceedings). Pages are keyed by their script (``pages/prune.py``), the name
``st.Page`` and ``pruning.app.path`` use. Pure data: no Streamlit.
"""
from __future__ import annotations

from dataclasses import dataclass

#: The article's title, used wherever a page quotes it ("the article" -> its name).
ARTICLE_TITLE = "Understanding Pruning in Deep Learning"
#: How pages name it in a sentence.
ARTICLE = f"the article *{ARTICLE_TITLE}*"


@dataclass(frozen=True)
class Source:
    """One work a page draws on: who, when, the title, a link (None = no public address),
    and what the page takes from it."""

    cite: str
    title: str
    url: str | None
    used_for: str

    def markdown(self) -> str:
        """One list line: '*Title* — Cite. What for.', the title linked when there is a link."""
        title = f"[{self.title}]({self.url})" if self.url else f"*{self.title}*"
        return f"- {title} — {self.cite}. {self.used_for}"


ARTICLE_SOURCE = Source("the article this app teaches from (no public link)", ARTICLE_TITLE, None,
                        "The loop: train, score, prune, fine-tune, repeat.")
HAN_2015 = Source("Han, Pool, Tran & Dally 2015",
                  "Learning both Weights and Connections for Efficient Neural Networks",
                  "https://arxiv.org/abs/1506.02626",
                  "Magnitude pruning and prune–retrain rounds.")
OBD_1989 = Source("LeCun, Denker & Solla 1989 (NIPS 2)", "Optimal Brain Damage",
                  "https://proceedings.neurips.cc/paper_files/paper/1989/hash/"
                  "6c9882bbac1c7093bd25041881277658-Abstract.html",
                  "The OBD scorer: ½·H_ii·w² from the Hessian diagonal.")
MOZER_1989 = Source("Mozer & Smolensky 1989 (NIPS 1)",
                    "Skeletonization: A Technique for Trimming the Fat from a Network via "
                    "Relevance Assessment",
                    "https://proceedings.neurips.cc/paper_files/paper/1988/hash/"
                    "07e1cd7dca89a1678042477183b7ac3f-Abstract.html",
                    "The ablation scorer: the loss change when a weight is removed.")
MOLCHANOV_2017 = Source("Molchanov, Tyree, Karras, Aila & Kautz 2017",
                        "Pruning Convolutional Neural Networks for Resource Efficient Inference",
                        "https://arxiv.org/abs/1611.06440",
                        "The Taylor criterion: a first-order estimate of the loss change.")
MOLCHANOV_2019 = Source("Molchanov, Mallya, Tyree, Frosio & Kautz 2019",
                        "Importance Estimation for Neural Network Pruning",
                        "https://arxiv.org/abs/1906.10771",
                        "The unit Taylor score: a neuron's weights and bias as one group.")
SNIP_2019 = Source("Lee, Ajanthan & Torr 2019",
                   "SNIP: Single-shot Network Pruning based on Connection Sensitivity",
                   "https://arxiv.org/abs/1810.02340",
                   "The SNIP scorer: prune once, at initialisation.")
MOVEMENT_2020 = Source("Sanh, Wolf & Rush 2020",
                       "Movement Pruning: Adaptive Sparsity by Fine-Tuning",
                       "https://arxiv.org/abs/2005.07683",
                       "The movement scorer −Σ w·∂L/∂w while fine-tuning.")
ZHOU_2019 = Source("Zhou, Lan, Liu & Yosinski 2019",
                   "Deconstructing Lottery Tickets: Zeros, Signs, and the Supermask",
                   "https://arxiv.org/abs/1905.01067",
                   "The magnitude-increase scorer |w| − |w₀|.")
FRANKLE_2019 = Source("Frankle & Carbin 2019",
                      "The Lottery Ticket Hypothesis: Finding Sparse, Trainable Neural Networks",
                      "https://arxiv.org/abs/1803.03635",
                      "Rewinding the survivors to their initial values and retraining.")
GREYDANUS_2020 = Source("Greydanus 2020",
                        "Scaling *down* Deep Learning (MNIST-1D)",
                        "https://arxiv.org/abs/2011.14439",
                        "Published small-scale lottery-ticket numbers to compare with.")
DEEP_COMPRESSION_2016 = Source("Han, Mao & Dally 2016",
                               "Deep Compression: Compressing Deep Neural Networks with Pruning, "
                               "Trained Quantization and Huffman Coding",
                               "https://arxiv.org/abs/1510.00149",
                               "Sparse storage with relative indices, and 8-bit weights.")
LI_2017 = Source("Li, Kadav, Durdanovic, Samet & Graf 2017", "Pruning Filters for Efficient ConvNets",
                 "https://arxiv.org/abs/1608.08710",
                 "Removing whole units ranked by the L1 norm of their weights.")

#: The scorers a page offers, each with its paper (the random control has none).
SCORER_PAPERS = (HAN_2015, OBD_1989, MOZER_1989, MOLCHANOV_2017, SNIP_2019, MOVEMENT_2020,
                 ZHOU_2019)

#: Page script -> the works it draws on, the article first.
PAGE_SOURCES: dict[str, tuple[Source, ...]] = {
    "pages/home.py": (ARTICLE_SOURCE, HAN_2015),
    "pages/lesson.py": (ARTICLE_SOURCE, HAN_2015),
    "pages/threshold.py": (ARTICLE_SOURCE, HAN_2015),
    "pages/train.py": (ARTICLE_SOURCE,),
    "pages/prune.py": (ARTICLE_SOURCE, *SCORER_PAPERS),
    "pages/finetune.py": (ARTICLE_SOURCE, HAN_2015),
    "pages/iterate.py": (ARTICLE_SOURCE, HAN_2015, FRANKLE_2019),
    "pages/scorers.py": (ARTICLE_SOURCE, *SCORER_PAPERS),
    "pages/structured.py": (ARTICLE_SOURCE, LI_2017, MOLCHANOV_2017, MOLCHANOV_2019, MOZER_1989,
                            OBD_1989, SNIP_2019),
    "pages/lottery.py": (ARTICLE_SOURCE, FRANKLE_2019, ZHOU_2019, GREYDANUS_2020),
    "pages/generalization.py": (ARTICLE_SOURCE, HAN_2015),
    "pages/shrank.py": (ARTICLE_SOURCE, DEEP_COMPRESSION_2016, HAN_2015),
    "pages/runs.py": (ARTICLE_SOURCE,),
}


def page_script(url_path: str) -> str:
    """The script for a Streamlit URL path (``""`` is Home, ``"prune"`` is pages/prune.py)."""
    return "pages/home.py" if url_path in ("", "home") else f"pages/{url_path}.py"


def sources_for(page: str) -> tuple[Source, ...]:
    """The works a page draws on (script or URL path); the article alone for an unknown page."""
    key = page if page.startswith("pages/") else page_script(page)
    return PAGE_SOURCES.get(key, (ARTICLE_SOURCE,))


def sources_markdown(page: str) -> str:
    """The page's Sources list as Markdown lines."""
    return "\n".join(s.markdown() for s in sources_for(page))
