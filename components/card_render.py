"""Writes a model card (:mod:`imagepipe.components.model_card`) as Markdown, HTML, JSON and PNGs.

The files sit beside the SavedModel of a pushed version: ``model_card.md``
to read, ``model_card.html`` to open in a browser (one page, every value
HTML-escaped), ``model_card.json``, the same figures under
model-card-toolkit's section names for a program, and the card's pictures
(``training_curves.png``, ``confusion_matrix.png``), which both pages show
by their relative path.
"""

from __future__ import annotations

import html
import json
from typing import Dict, List, Sequence, Union

from imagepipe.components import model_card
from imagepipe.components.model_card import Block, Figure, ModelCard, Section, Table

MARKDOWN_FILE = "model_card.md"
HTML_FILE = "model_card.html"
JSON_FILE = "model_card.json"

_STYLE = ("body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.4}"
          "table{border-collapse:collapse}td,th{border:1px solid #999;padding:.2em .6em;"
          "text-align:right}td:first-child,th:first-child{text-align:left}")


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def _md_block(block: Block) -> List[str]:
    if isinstance(block, Table):
        header, *rows = block.rows
        return ["| " + " | ".join(map(_md_cell, header)) + " |",
                "|" + "---|" * len(header),
                *("| " + " | ".join(map(_md_cell, row)) + " |" for row in rows), ""]
    if isinstance(block, tuple):
        return [f"- {item}" for item in block] + [""]
    if isinstance(block, Figure):
        return [f"![{block.caption}]({block.file_name})", ""]
    return [block, ""]


def to_markdown(card: ModelCard) -> str:
    """The card as Markdown: a title, then one ``##`` section per card section."""
    lines = [f"# Model card: {card.name}, version {card.version}", ""]
    for section in card.sections:
        lines += [f"## {section.title}", ""]
        for block in section.blocks:
            lines += _md_block(block)
    return "\n".join(lines).rstrip() + "\n"


def _html_block(block: Block) -> str:
    if isinstance(block, Table):
        header, *rows = block.rows
        head = "".join(f"<th>{html.escape(cell)}</th>" for cell in header)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row)
                       + "</tr>" for row in rows)
        return f"<table><tr>{head}</tr>{body}</table>"
    if isinstance(block, tuple):
        return "<ul>" + "".join(f"<li>{html.escape(item)}</li>" for item in block) + "</ul>"
    if isinstance(block, Figure):
        caption = html.escape(block.caption)
        return (f"<figure><img src=\"{html.escape(block.file_name)}\" alt=\"{caption}\">"
                f"<figcaption>{caption}</figcaption></figure>")
    return f"<p>{html.escape(block)}</p>"


def html_page(title: str, sections: Sequence[Section]) -> str:
    """One self-contained HTML page: ``title``, then one ``h2`` per section (the card's, the
    drift report's)."""
    title = html.escape(title)
    parts = [f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title}</title>"
             f"<style>{_STYLE}</style></head><body><h1>{title}</h1>"]
    for section in sections:
        parts.append(f"<h2>{html.escape(section.title)}</h2>")
        parts += [_html_block(block) for block in section.blocks]
    parts.append("</body></html>\n")
    return "\n".join(parts)


def to_html(card: ModelCard) -> str:
    """The card as one self-contained HTML page."""
    return html_page(f"Model card: {card.name}, version {card.version}", card.sections)


def to_json(card: ModelCard) -> str:
    """The card's figures under model-card-toolkit's field names."""
    text = {section.field: [_json_block(block) for block in section.blocks]
            for section in card.sections}
    return json.dumps({"model_details": {"name": card.name, "version": {"name": card.version}},
                       "figures": card.facts, "sections": text}, indent=2, sort_keys=True)


def _json_block(block: Block) -> Union[str, list, dict]:
    if isinstance(block, Table):
        return list(map(list, block.rows))
    if isinstance(block, Figure):
        return {"figure": block.file_name, "caption": block.caption}
    return block if isinstance(block, str) else list(block)


def card_files(card: ModelCard) -> Dict[str, Union[str, bytes]]:
    """File name -> content of the card's files: the three pages (text) and its pictures (PNG)."""
    files: Dict[str, Union[str, bytes]] = {
        MARKDOWN_FILE: to_markdown(card), HTML_FILE: to_html(card), JSON_FILE: to_json(card)}
    files.update({figure.file_name: figure.png for figure in model_card.figures(card)})
    return files
