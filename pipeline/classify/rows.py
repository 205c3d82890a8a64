"""The output files of classify-folder: rows appended per batch, resumed after a kill.

``PREFIX.csv`` and ``PREFIX.jsonl`` hold one row per entry of the folder, in
the order they were classified: a photo's path, its class and the
probability of each class, or a file's path and why it was skipped (never
its content). ``PREFIX.meta.json`` says which folder and which model version
the rows belong to, so a rerun never mixes two models' answers, and
``PREFIX.skipped.csv`` lists the skipped files with their reasons.

Rows and their text are data/classification_rows.py's, shared with the
pipeline's classification of an unlabelled folder.

The JSON Lines file is the record: each batch is appended to both files and
flushed to disk. On a rerun its complete lines are the finished rows; a torn
last line (a kill in the middle of a write) is cut off, and the CSV is
written again from the finished rows, so every photo ends up exactly once.
Outputs are local files (appending and cutting need a local disk).
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

from imagepipe.data.classification_rows import (CSV_SUFFIX, JSONL_SUFFIX, SKIPPED_SUFFIX, Row,
                                                csv_header, csv_text, rows_csv, rows_jsonl,
                                                skipped_csv)

META_SUFFIX = ".meta.json"

__all__ = ["CSV_SUFFIX", "JSONL_SUFFIX", "META_SUFFIX", "SKIPPED_SUFFIX", "OutputError", "Row",
           "RowWriter", "csv_header", "finished_lines", "read_rows"]


class OutputError(ValueError):
    """The output files cannot be written or belong to another folder or model."""


def _atomic_write(path: str, text: str) -> None:
    temporary = f"{path}.tmp"
    with open(temporary, "w", encoding="utf-8", newline="") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)


def finished_lines(data: bytes) -> Tuple[List[Dict[str, Any]], int]:
    """The complete JSON lines at the start of ``data`` and the bytes they take.

    A line is complete when it ends with a newline and parses; the first one
    that does not (a torn last write) ends the finished part.
    """
    values, end = [], 0
    while True:
        newline = data.find(b"\n", end)
        if newline < 0:
            return values, end
        try:
            value = json.loads(data[end:newline])
        except ValueError:
            return values, end
        if not isinstance(value, dict) or "path" not in value:
            return values, end
        values.append(value)
        end = newline + 1


class RowWriter:
    """Appends rows to ``PREFIX.csv`` and ``PREFIX.jsonl``, resuming what is there."""

    def __init__(self, prefix: str, meta: Dict[str, Any]):
        """Args:
          prefix: the output files' path without their suffixes; local.
          meta: what the rows belong to (folder, model version, class names).
        """
        if "://" in prefix:
            raise OutputError(f"--output {prefix}: rows are appended to local files; give a "
                              f"local path")
        self.prefix = prefix
        self.meta = meta
        self.class_names: List[str] = list(meta["class_names"])
        self.rows: List[Row] = []
        self._csv = self._jsonl = None

    def path(self, suffix: str) -> str:
        """The output file with ``suffix``."""
        return self.prefix + suffix

    def resume(self) -> Set[str]:
        """Opens the files for appending, keeping their finished rows; returns their paths.

        Raises:
          OutputError: the files were written for another folder or model.
        """
        self._check_meta()
        jsonl = self.path(JSONL_SUFFIX)
        data = b""
        if os.path.exists(jsonl):
            with open(jsonl, "rb") as f:
                data = f.read()
        values, end = finished_lines(data)
        rows = {}
        for value in values:
            rows.setdefault(value["path"], Row.from_json(value, self.class_names))
        self.rows = list(rows.values())
        with open(jsonl, "ab") as f:
            f.truncate(end)
        _atomic_write(self.path(CSV_SUFFIX),
                      csv_text([csv_header(self.class_names)]) + rows_csv(self.rows))
        self._jsonl = open(jsonl, "a", encoding="utf-8")  # pylint: disable=consider-using-with
        self._csv = open(self.path(CSV_SUFFIX), "a", encoding="utf-8", newline="")  # pylint: disable=consider-using-with
        return set(rows)

    def _check_meta(self) -> None:
        meta_path = self.path(META_SUFFIX)
        folder = os.path.dirname(os.path.abspath(self.prefix))
        os.makedirs(folder, exist_ok=True)
        if not os.path.exists(meta_path):
            if os.path.exists(self.path(JSONL_SUFFIX)):
                raise OutputError(f"{self.path(JSONL_SUFFIX)} exists without "
                                  f"{os.path.basename(meta_path)}: it was not written by "
                                  f"classify-folder; give another --output")
            _atomic_write(meta_path, json.dumps(self.meta, indent=2, sort_keys=True))
            return
        with open(meta_path, encoding="utf-8") as f:
            written = json.load(f)
        different = [key for key in sorted(self.meta) if written.get(key) != self.meta[key]]
        if different:
            shown = "; ".join(f"{key}: {written.get(key)!r} there, {self.meta[key]!r} now"
                              for key in different)
            raise OutputError(f"{meta_path} belongs to another run ({shown}); give another "
                              f"--output, or the same folder and model version to resume it")

    def append(self, rows: Sequence[Row]) -> None:
        """Appends a batch of rows to both files and flushes them to disk."""
        self._csv.write(rows_csv(rows))
        self._jsonl.write(rows_jsonl(rows, self.class_names))
        for handle in (self._csv, self._jsonl):
            handle.flush()
            os.fsync(handle.fileno())
        self.rows.extend(rows)

    def close(self) -> List[str]:
        """Closes the files and writes the skipped list; returns the files written."""
        for handle in (self._csv, self._jsonl):
            if handle is not None:
                handle.close()
        _atomic_write(self.path(SKIPPED_SUFFIX), skipped_csv(self.rows))
        return [self.path(suffix) for suffix in (CSV_SUFFIX, JSONL_SUFFIX, SKIPPED_SUFFIX)]

    def skipped_rows(self) -> List[Row]:
        """The rows of skipped files, finished earlier or now."""
        return [row for row in self.rows if row.skipped]


def read_rows(prefix: str) -> Tuple[Optional[List[str]], List[Row]]:
    """The class names and finished rows of ``PREFIX.jsonl`` (None, [] when absent)."""
    meta_path = prefix + META_SUFFIX
    if not os.path.exists(meta_path):
        return None, []
    with open(meta_path, encoding="utf-8") as f:
        names = json.load(f)["class_names"]
    with open(prefix + JSONL_SUFFIX, "rb") as f:
        values, _ = finished_lines(f.read())
    return names, [Row.from_json(value, names) for value in values]
