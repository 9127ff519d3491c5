"""A standalone HTML report: one file a stakeholder opens in any browser, with no Python and no
network.

Self-contained on purpose: plotly.js (≈ 4.7 MB) is embedded *once* in the page's ``<head>``
(``plotly.offline.get_plotlyjs()``), every chart is a ``<div>`` drawn by that copy
(``include_plotlyjs=False`` per figure), MathJax is left out, and no ``<script src>``,
``<link href>`` or ``<img src>`` points anywhere. The charts stay interactive (hover, zoom,
legend toggles) offline. All text is HTML-escaped; tables come from ``DataFrame.to_html``
(which escapes too).

A report is a title plus sections; a section is a heading and a list of blocks, each a
``str`` (a paragraph), a ``pandas.DataFrame`` (a table), a Plotly figure, or ``Code(text)``.
"""
from __future__ import annotations

import datetime as _dt
import html
from dataclasses import dataclass, field

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs


@dataclass(frozen=True)
class Code:
    """A block of source code shown verbatim."""

    text: str


@dataclass
class Section:
    heading: str
    blocks: list = field(default_factory=list)


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem auto;
       max-width: 1100px; padding: 0 1rem; color: #222; line-height: 1.5; }
h1 { font-size: 2rem; margin-bottom: .2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
.lead { font-size: 1.3rem; background: #eef6ee; border-left: 6px solid #55a868; padding: .8rem 1rem; }
.meta { color: #666; font-size: .9rem; }
table { border-collapse: collapse; margin: .8rem 0; font-size: .95rem; }
th, td { border: 1px solid #ccc; padding: .3rem .6rem; text-align: right; }
th { background: #f4f4f4; } td:first-child, th:first-child { text-align: left; }
pre { background: #f6f8fa; padding: 1rem; overflow-x: auto; font-size: .9rem; }
"""


def _block_html(block) -> str:
    if isinstance(block, go.Figure):
        return pio.to_html(block, full_html=False, include_plotlyjs=False, include_mathjax=False,
                           config={"displaylogo": False, "responsive": True})
    if isinstance(block, pd.DataFrame):
        return block.to_html(index=False, escape=True, border=0, na_rep="–",
                             float_format=lambda v: f"{v:,.4g}")
    if isinstance(block, Code):
        return f"<pre><code>{html.escape(block.text)}</code></pre>"
    return f"<p>{html.escape(str(block))}</p>"


def html_report(title: str, lead: str, sections: list[Section],
                created: _dt.datetime | None = None) -> str:
    """The whole report as one HTML string (see the module docstring)."""
    created = created or _dt.datetime.now().replace(microsecond=0)
    body = [f"<h1>{html.escape(title)}</h1>",
            f'<p class="meta">Pruning Playground report, created {html.escape(created.isoformat(" "))}. '
            f"Every number was measured by the app; the charts work offline.</p>",
            f'<p class="lead">{html.escape(lead)}</p>']
    for sec in sections:
        body.append(f"<h2>{html.escape(sec.heading)}</h2>")
        body.extend(_block_html(b) for b in sec.blocks)
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n"
            f"<script type=\"text/javascript\">{get_plotlyjs()}</script>\n</head>\n<body>\n"
            + "\n".join(body) + "\n</body>\n</html>\n")
