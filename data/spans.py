"""Spans of a photo folder: ``PATH/span-N/<class>/...`` and the window a run trains on.

A photo folder whose top-level sub-folders are named ``span-N`` (N a number)
holds one batch of photos per span, each laid out as a photo folder of its
own (one sub-folder per class). A folder without ``span-*`` sub-folders is one
span, span 0, the folder itself. A run picks a window of spans: ``all``,
``latest`` or the latest ``K`` (TFX's rolling range). This module reads no
image and imports no TensorFlow unless the folder is remote.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Dict, List, Optional, Sequence, Tuple

from imagepipe.data import photo_folder

SPAN_FOLDER = re.compile(r"^span-(\d+)$")
ALL = "all"
LATEST = "latest"
NO_SPANS = 0  # the span number of a folder without span-* sub-folders


def folder_name(span: int) -> str:
    """The sub-folder of span ``span``."""
    return f"span-{span}"


def of_path(path: str) -> int:
    """The span of a photo path relative to the folder (``span-2/pens/a.jpg``: 2; else 0)."""
    match = SPAN_FOLDER.match(path.split("/", 1)[0])
    return int(match.group(1)) if match and "/" in path else NO_SPANS


def window_size(spans: str) -> Optional[int]:
    """How many of the latest spans ``spans`` (all, latest or K) names; None: all.

    Raises:
      ValueError: ``spans`` is none of all, latest or a positive whole number.
    """
    if spans == ALL:
        return None
    if spans == LATEST:
        return 1
    if spans.isdigit() and int(spans) > 0:
        return int(spans)
    raise ValueError(f"spans must be 'all', 'latest' or a positive number K (the latest K), "
                     f"got {spans!r}")


def span_folders(root: str) -> Dict[int, str]:
    """Span number -> sub-folder name of ``root``'s ``span-N`` folders; empty: no spans.

    Raises:
      photo_folder.FolderError: ``root`` is missing, mixes span folders with
        other sub-folders, or names one span twice (``span-1`` and ``span-01``).
    """
    folders = photo_folder.top_folders(root)
    found: Dict[int, str] = {}
    for name in folders:
        match = SPAN_FOLDER.match(name)
        if match:
            number = int(match.group(1))
            if number in found:
                raise photo_folder.FolderError(f"{root}: {found[number]} and {name} are both "
                                               f"span {number}: rename one")
            found[number] = name
    others = [name for name in folders if not SPAN_FOLDER.match(name)]
    if found and others:
        raise photo_folder.FolderError(
            f"{root} mixes span folders ({', '.join(sorted(found.values()))}) with other "
            f"sub-folders ({', '.join(others)}): put every photo under a span-N folder")
    return found


def select(available: Sequence[int], spans: str) -> List[int]:
    """The spans of the window: the latest ``window_size(spans)`` of ``available``, rising."""
    size = window_size(spans)
    ordered = sorted(available)
    return ordered if size is None else ordered[-size:]


def resolve(root: str, spans: str) -> List[Tuple[int, str]]:
    """(span, folder relative to ``root``) of the window; [(0, "")] without span folders."""
    found = span_folders(root)
    if not found:
        window_size(spans)  # checked even when there is nothing to choose
        return [(NO_SPANS, "")]
    return [(number, found[number]) for number in select(list(found), spans)]


def join(root: str, relative: str) -> str:
    """``root``/``relative`` with '/' (local or gs://); ``root`` itself for ''."""
    return root.rstrip("/") + "/" + relative if relative else root


def class_folders(root: str, window: Sequence[Tuple[int, str]]) -> Tuple[str, ...]:
    """The class sub-folders found in the window's span folders, sorted, each once."""
    names = set()
    for _, relative in window:
        names.update(photo_folder.top_folders(join(root, relative)))
    return tuple(sorted(names))


def _prefixed(relative: str, path: str) -> str:
    return f"{relative}/{path}" if relative else path


def merge(root: str, scans: Sequence[Tuple[str, photo_folder.FolderScan]]
          ) -> photo_folder.FolderScan:
    """One scan of ``root`` from the scans of its span folders, paths relative to ``root``.

    A photo whose content an earlier span of the window already holds is
    skipped as a duplicate (it would otherwise be in two splits at once).

    Args:
      root: the photo folder.
      scans: (span folder relative to ``root``, its scan), in span order.
    """
    if len(scans) == 1 and not scans[0][0]:
        return scans[0][1]
    first_seen: Dict[str, str] = {}
    photos: List[photo_folder.Photo] = []
    skipped: List[photo_folder.Skipped] = []
    for relative, scan in scans:
        skipped += [dataclasses.replace(s, path=_prefixed(relative, s.path))
                    for s in scan.skipped]
        for photo in scan.photos:
            path = _prefixed(relative, photo.path)
            if photo.content_hash in first_seen:
                skipped.append(photo_folder.Skipped(
                    path, photo_folder.DUPLICATE,
                    f"the same content as {first_seen[photo.content_hash]}, an earlier span's"))
                continue
            first_seen[photo.content_hash] = path
            photos.append(dataclasses.replace(photo, path=path))
    last = scans[-1][1]
    missing = tuple(sorted({_prefixed(r, f) for r, s in scans for f in s.missing_folders}))
    return photo_folder.FolderScan(
        root=root, class_map=last.class_map, default_class_map=last.default_class_map,
        max_pixels=last.max_pixels, limits=last.limits,
        photos=sorted(photos, key=lambda p: p.path),
        skipped=sorted(skipped, key=lambda s: s.path), missing_folders=missing)
