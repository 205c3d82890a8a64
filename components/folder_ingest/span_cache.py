"""The folder ExampleGen's span cache: each span's scan and examples, kept for the next run.

A rerun after a new span arrives ingests only that span: the scans and
tf.Examples of the window's older spans come from here. An entry is keyed by
everything its examples depend on: the span folder's listing fingerprint
(paths, sizes, modification times), the class map, the scan's limits, the
stored copy's size and this format's version. It holds the span's own scan
(``scan.json``: accepted photos, skipped entries, the example ids written) and
its examples (``examples.tfrecord``: serialized tf.Examples, not split). The
split is assigned at every run, since it depends on what the window's earlier
spans hold, and a cached record is routed to its split by its example id.

Entries are staged in a folder of their own and renamed into place only once
the run's examples are written, so a run killed midway leaves no half entry;
entries the window no longer uses are removed after a run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import uuid
from typing import Any, Dict, FrozenSet, Iterable, Mapping, Optional, Sequence, Tuple

import tensorflow as tf

from imagepipe.components.folder_ingest import spec
from imagepipe.data import class_map as class_map_lib
from imagepipe.data import photo_folder, spans

FORMAT = 1  # bump when what an entry holds, or how its examples are built, changes
SCAN_FILE = "scan.json"
RECORDS_FILE = "examples.tfrecord"
_STAGING = ".staging-"
_KEY_PROPERTIES = (spec.CLASS_MAP_KEY, spec.MAX_PIXELS_KEY, spec.MAX_SIDE_KEY,
                   spec.MAX_FILE_BYTES_KEY, spec.IMAGE_SIZE_KEY, spec.FOLLOW_LINKS_KEY)


@dataclasses.dataclass(frozen=True)
class Entry:
    """One span's cached ingestion.

    Attributes:
      relative: the span folder, relative to the photo folder.
      key: the entry's key (see the module docstring).
      directory: where the entry lives (or is staged).
      scan: the span folder's own scan, paths relative to the span folder.
      example_ids: the ids of the examples in ``records``.
    """

    relative: str
    key: str
    directory: str
    scan: Optional[photo_folder.FolderScan] = None
    example_ids: FrozenSet[str] = frozenset()

    @property
    def records(self) -> str:
        """The entry's TFRecord file of serialized tf.Examples."""
        return f"{self.directory}/{RECORDS_FILE}"


class SpanCache:
    """The span cache under one folder, for one set of ingestion settings."""

    def __init__(self, directory: str, exec_properties: Mapping[str, Any]):
        """Creates the cache under ``directory`` for the ExampleGen's ``exec_properties``."""
        self.directory = directory.rstrip("/")
        self._settings = {name: exec_properties.get(name) for name in _KEY_PROPERTIES}

    @classmethod
    def of(cls, exec_properties: Mapping[str, Any]) -> Optional["SpanCache"]:
        """The cache the execution properties name; None when they name none."""
        directory = exec_properties.get(spec.SPAN_CACHE_KEY) or ""
        return cls(directory, exec_properties) if directory else None

    def key(self, span_root: str) -> str:
        """The key of the span folder ``span_root`` as it is now."""
        payload = json.dumps({"format": FORMAT, "settings": self._settings,
                              "listing": photo_folder.listing_fingerprint(span_root)},
                             sort_keys=True)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]

    def lookup(self, root: str, window: Sequence[Tuple[int, str]],
               class_map: class_map_lib.ClassMap, limits: photo_folder.ScanLimits
               ) -> Dict[str, Entry]:
        """The entries of the window's span folders, hit (with a scan) or not, by folder.

        A folder without span folders (span 0) has none: a change anywhere in it
        reruns the whole ingestion anyway.

        Args:
          root: the photo folder.
          window: (span, folder relative to ``root``) pairs.
          class_map: this run's class map (part of every key).
          limits: this run's scan limits (part of every key).
        """
        entries = {}
        for _, relative in window:
            if relative:
                key = self.key(spans.join(root, relative))
                entries[relative] = _read(Entry(relative, key, f"{self.directory}/{key}"),
                                          class_map, limits)
        return entries

    def staged(self, entry: Entry) -> Entry:
        """A fresh staging folder for ``entry``'s new records."""
        directory = f"{self.directory}/{_STAGING}{entry.key}-{uuid.uuid4().hex[:8]}"
        tf.io.gfile.makedirs(directory)
        return dataclasses.replace(entry, directory=directory)

    def commit(self, staged: Entry) -> Entry:
        """Writes the staged entry's scan, then moves it into place."""
        _write_scan(staged)
        final = f"{self.directory}/{staged.key}"
        if tf.io.gfile.exists(final):
            tf.io.gfile.rmtree(final)
        tf.io.gfile.rename(staged.directory, final)
        return dataclasses.replace(staged, directory=final)

    def prune(self, keep: Iterable[str]) -> None:
        """Removes every entry (and leftover staging folder) whose key is not in ``keep``."""
        if not tf.io.gfile.isdir(self.directory):
            return
        kept = set(keep)
        for name in tf.io.gfile.listdir(self.directory):
            name = name.rstrip("/")
            if name not in kept:
                tf.io.gfile.rmtree(f"{self.directory}/{name}")


def _read(entry: Entry, class_map: class_map_lib.ClassMap,
          limits: photo_folder.ScanLimits) -> Entry:
    """``entry`` with its scan when it was committed, else as it is."""
    path = f"{entry.directory}/{SCAN_FILE}"
    if not (tf.io.gfile.exists(path) and tf.io.gfile.exists(entry.records)):
        return entry
    with tf.io.gfile.GFile(path) as file:
        stored = json.load(file)
    if stored.get("format") != FORMAT:
        return entry
    scan = photo_folder.FolderScan(
        root=stored["root"], class_map=class_map, default_class_map=stored["default_class_map"],
        max_pixels=stored["max_pixels"], limits=limits,
        photos=[photo_folder.Photo(**photo) for photo in stored["photos"]],
        skipped=[photo_folder.Skipped(**entry) for entry in stored["skipped"]],
        missing_folders=tuple(stored["missing_folders"]))
    return dataclasses.replace(entry, scan=scan, example_ids=frozenset(stored["example_ids"]))


def _write_scan(entry: Entry) -> None:
    scan = entry.scan
    stored = {"format": FORMAT, "root": scan.root, "default_class_map": scan.default_class_map,
              "max_pixels": scan.max_pixels,
              "photos": [dataclasses.asdict(photo) for photo in scan.photos],
              "skipped": [dataclasses.asdict(skipped) for skipped in scan.skipped],
              "missing_folders": list(scan.missing_folders),
              "example_ids": sorted(entry.example_ids)}
    with tf.io.gfile.GFile(f"{entry.directory}/{SCAN_FILE}", "w") as file:
        json.dump(stored, file)
