"""Classification rows and their text: one row per photo as CSV, JSON Lines and a skipped list.

A row holds a photo's path, its predicted class and the probability of each
class, or a file's path and why it was skipped (never its content).
``imagepipe classify-folder`` appends these texts batch by batch
(pipeline/classify/rows.py); the pipeline's classification of an unlabelled
folder writes them whole with :func:`write_files` (local or gs://).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from typing import Any, Dict, List, Sequence, Tuple

import tensorflow as tf

CSV_SUFFIX = ".csv"
JSONL_SUFFIX = ".jsonl"
SKIPPED_SUFFIX = ".skipped.csv"


@dataclasses.dataclass(frozen=True)
class Row:
    """One entry's row: a photo's class and probabilities, or why it was skipped.

    Attributes:
      path: relative to the photo folder, ``/``-separated.
      class_name: the predicted class; empty for a skipped file.
      probabilities: one per class, in class id order; empty for a skipped file.
      skipped: the reason a file was not classified; empty for a photo.
      detail: what exactly was wrong with a skipped file.
    """

    path: str
    class_name: str = ""
    probabilities: Tuple[float, ...] = ()
    skipped: str = ""
    detail: str = ""

    def to_json(self, class_names: Sequence[str]) -> Dict[str, Any]:
        """The row's JSON object (``path``, ``class``, ``probabilities`` by class name)."""
        if self.skipped:
            return {"path": self.path, "skipped": self.skipped, "detail": self.detail}
        return {"path": self.path, "class": self.class_name,
                "probabilities": dict(zip(class_names, self.probabilities))}

    @classmethod
    def from_json(cls, value: Dict[str, Any], class_names: Sequence[str]) -> "Row":
        """The row of a JSON object written by :meth:`to_json`."""
        if "skipped" in value:
            return cls(value["path"], skipped=value["skipped"], detail=value.get("detail", ""))
        probabilities = value["probabilities"]
        return cls(value["path"], value["class"],
                   tuple(float(probabilities[name]) for name in class_names))

    def csv_cells(self) -> List[str]:
        """The row's CSV cells: path, class, one probability per class, skipped reason."""
        return [self.path, self.class_name, *(f"{p:.6g}" for p in self.probabilities),
                self.skipped]


def csv_header(class_names: Sequence[str]) -> List[str]:
    """``path, class, p_<class>..., skipped``."""
    return ["path", "class", *(f"p_{name}" for name in class_names), "skipped"]


def csv_text(rows: Sequence[Sequence[str]]) -> str:
    """CSV lines of ``rows`` of cells, each ended by ``\\n``."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def rows_csv(rows: Sequence[Row]) -> str:
    """The CSV lines of ``rows``, without a header."""
    return csv_text([row.csv_cells() for row in rows])


def rows_jsonl(rows: Sequence[Row], class_names: Sequence[str]) -> str:
    """The JSON Lines of ``rows``, one object per line."""
    return "".join(json.dumps(row.to_json(class_names)) + "\n" for row in rows)


def skipped_csv(rows: Sequence[Row]) -> str:
    """The skipped list of ``rows``: a header, then path, reason and detail per skipped file."""
    return csv_text([["path", "reason", "detail"]]
                    + [[row.path, row.skipped, row.detail] for row in rows if row.skipped])


def write_files(prefix: str, class_names: Sequence[str], rows: Sequence[Row]) -> List[str]:
    """Writes ``PREFIX.csv``, ``PREFIX.jsonl`` and ``PREFIX.skipped.csv`` whole.

    Args:
      prefix: the files' path without their suffixes; local or gs://.
      class_names: in class id order, one probability column each.
      rows: every row, photos and skipped files.

    Returns:
      The three files' paths.
    """
    texts = {CSV_SUFFIX: csv_text([csv_header(class_names)]) + rows_csv(rows),
             JSONL_SUFFIX: rows_jsonl(rows, class_names),
             SKIPPED_SUFFIX: skipped_csv(rows)}
    for suffix, text in texts.items():
        with tf.io.gfile.GFile(prefix + suffix, "w") as f:
            f.write(text)
    return [prefix + suffix for suffix in texts]
