"""Experiment reports: a Markdown file, PNG charts and an HTML page that shows them.

A :class:`Report` collects headings, paragraphs, tables and images in order
and writes them into a folder::

    report.md       the text and tables, images linked
    index.html      the same page for a browser, images embedded by path
    results.json    the raw numbers, for other tools
    *.png           the charts

The chart functions return PNG bytes (matplotlib, Agg backend); the training curves and
the confusion matrix are :mod:`imagepipe.components.charts`'s, shared with the model card.
"""

from __future__ import annotations

import dataclasses
import html
import json
import os
from typing import Any, List, Mapping, Optional, Sequence, Tuple

import tensorflow as tf

# The charts of a training run live with the model card's; the experiments draw them from here.
from imagepipe.components.charts import (  # pylint: disable=unused-import
    confusion_matrix, png, pyplot, training_curves)

REPORT_MD = "report.md"
REPORT_HTML = "index.html"
RESULTS_JSON = "results.json"


@dataclasses.dataclass
class _Block:
    kind: str  # heading | text | table | image
    payload: Any


@dataclasses.dataclass
class Report:
    """An experiment report under construction.

    Attributes:
      title: the page title.
      results: the raw numbers, written to ``results.json``.
    """

    title: str
    results: dict = dataclasses.field(default_factory=dict)
    _blocks: List[_Block] = dataclasses.field(default_factory=list)
    _images: List[Tuple[str, bytes]] = dataclasses.field(default_factory=list)

    def heading(self, text: str) -> "Report":
        """Adds a section heading."""
        self._blocks.append(_Block("heading", text))
        return self

    def text(self, text: str) -> "Report":
        """Adds a paragraph (Markdown inline syntax is kept as is in the Markdown file)."""
        self._blocks.append(_Block("text", text))
        return self

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> "Report":
        """Adds a table; cells are shown with ``str``."""
        self._blocks.append(_Block("table", ([str(h) for h in headers],
                                             [[str(c) for c in row] for row in rows])))
        return self

    def image(self, file_name: str, png: bytes, caption: str) -> "Report":
        """Adds a PNG image, written as ``file_name`` beside the page."""
        if any(name == file_name for name, _ in self._images):
            raise ValueError(f"image {file_name!r} is added twice")
        self._images.append((file_name, png))
        self._blocks.append(_Block("image", (file_name, caption)))
        return self

    @property
    def tables(self) -> List[Tuple[List[str], List[List[str]]]]:
        """The tables added so far, as (headers, rows)."""
        return [block.payload for block in self._blocks if block.kind == "table"]

    def markdown(self) -> str:
        """The report as Markdown."""
        lines = [f"# {self.title}", ""]
        for block in self._blocks:
            if block.kind == "heading":
                lines += [f"## {block.payload}", ""]
            elif block.kind == "text":
                lines += [block.payload, ""]
            elif block.kind == "table":
                lines += [markdown_table(*block.payload), ""]
            else:
                name, caption = block.payload
                lines += [f"![{caption}]({name})", ""]
        return "\n".join(lines)

    def html(self) -> str:
        """The report as a self-contained HTML page (images by relative path)."""
        parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'>"
                 f"<title>{html.escape(self.title)}</title><style>{_CSS}</style></head><body>",
                 f"<h1>{html.escape(self.title)}</h1>"]
        for block in self._blocks:
            if block.kind == "heading":
                parts.append(f"<h2>{html.escape(block.payload)}</h2>")
            elif block.kind == "text":
                parts.append(f"<p>{html.escape(block.payload)}</p>")
            elif block.kind == "table":
                parts.append(_html_table(*block.payload))
            else:
                name, caption = block.payload
                parts.append(f"<figure><img src='{html.escape(name)}' alt='{html.escape(caption)}'>"
                             f"<figcaption>{html.escape(caption)}</figcaption></figure>")
        parts.append("</body></html>")
        return "\n".join(parts)

    def write(self, folder: str) -> str:
        """Writes the page, the images and results.json into ``folder``; returns the HTML path.

        A previous report's files there (pages, results, PNGs) are removed first.
        """
        tf.io.gfile.makedirs(folder)
        for pattern in ("*.png", REPORT_MD, REPORT_HTML, RESULTS_JSON):
            for stale in tf.io.gfile.glob(os.path.join(folder, pattern)):
                tf.io.gfile.remove(stale)
        for name, png in self._images:
            with tf.io.gfile.GFile(os.path.join(folder, name), "wb") as f:
                f.write(png)
        with tf.io.gfile.GFile(os.path.join(folder, REPORT_MD), "w") as f:
            f.write(self.markdown())
        with tf.io.gfile.GFile(os.path.join(folder, RESULTS_JSON), "w") as f:
            json.dump(self.results, f, indent=2, sort_keys=True, default=str)
        path = os.path.join(folder, REPORT_HTML)
        with tf.io.gfile.GFile(path, "w") as f:
            f.write(self.html())
        return path


_CSS = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
        "table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #bbb;padding:4px 8px;text-align:right}"
        "th{background:#eee}td:first-child,th:first-child{text-align:left}"
        "figure{display:inline-block;margin:0.5em}img{max-width:520px}"
        "figcaption{font-size:0.85em;color:#444}")


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub-flavoured Markdown table."""
    def line(cells):
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"
    align = ["---"] + ["---:"] * (len(headers) - 1)
    return "\n".join([line(headers), line(align)] + [line(row) for row in rows])


def _html_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def percent(value: Optional[float], digits: int = 2) -> str:
    """``0.9951`` -> ``99.51%``; None -> ``n/a``."""
    return "n/a" if value is None else f"{100.0 * value:.{digits}f}%"


# ------------------------------------------------------------------ charts


def line_chart(xs: Sequence[float], series: Mapping[str, Sequence[Optional[float]]],
               xlabel: str, ylabel: str, title: str, percent_axis: bool = True) -> bytes:
    """One line per series over ``xs``."""
    plt = pyplot()
    figure, ax = plt.subplots(figsize=(6, 3.6), dpi=100)
    for name, ys in series.items():
        scale = 100.0 if percent_axis else 1.0
        ax.plot(xs, [None if y is None else y * scale for y in ys], "o-", label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel + (" (%)" if percent_axis else ""))
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return png(figure)


def bar_chart(labels: Sequence[str], values: Sequence[Optional[float]], ylabel: str,
              title: str, errors: Optional[Sequence[float]] = None) -> bytes:
    """Bars (in percent) with optional error bars."""
    plt = pyplot()
    figure, ax = plt.subplots(figsize=(max(4, 1.1 * len(labels) + 2), 3.4), dpi=100)
    heights = [0.0 if v is None else 100.0 * v for v in values]
    ax.bar(labels, heights, yerr=None if errors is None else [100.0 * e for e in errors],
           capsize=4, color="tab:blue")
    for x, height in enumerate(heights):
        ax.text(x, height, f"{height:.1f}", ha="center", va="bottom", fontsize=8)
    ax.set_ylabel(ylabel + " (%)")
    ax.set_title(title)
    low = min(heights) if heights else 0
    ax.set_ylim(max(0.0, low - 10.0), 100.5)
    return png(figure)
