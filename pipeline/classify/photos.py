"""Listing an unlabelled photo folder and reading its photos batch by batch, safely.

The folder is walked like ingestion walks one (:func:`folder_walk.walk`):
recursively, sorted, symbolic links leading outside the folder skipped, no
file read past the size limit. Every file is checked by decoding it fully
(:func:`images.inspect_image`) before a model sees it, so a corrupt or
non-image file becomes a skipped row with its reason, never a failed batch;
formats the served graph cannot decode are converted to PNG on the way.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import os
from typing import List, Optional, Sequence, Tuple, Union

from imagepipe.data import folder_walk, images
from imagepipe.pipeline.photo_eval import servable


@dataclasses.dataclass(frozen=True)
class Entry:
    """One entry of the folder: a file to classify, or one skipped while listing.

    Attributes:
      path: relative to the folder, ``/``-separated, printable.
      candidate: the file to read; None when the listing already skipped it.
      skipped: why it is not classified (the listing's reason); None for a file.
    """

    path: str
    candidate: Optional[folder_walk.Candidate] = None
    skipped: Optional[folder_walk.Skipped] = None


def list_entries(root: str, follow_links: bool = False) -> List[Entry]:
    """Every entry under ``root`` in path order, without reading any file.

    Raises:
      FileNotFoundError: ``root`` is not a folder.
    """
    if not is_folder(root):
        raise FileNotFoundError(f"photo folder not found: {root}")
    entries = []
    for item in folder_walk.walk(root, follow_links):
        if isinstance(item, folder_walk.Skipped):
            entries.append(Entry(item.path, skipped=item))
        else:
            entries.append(Entry(folder_walk.display_path(item.parts), candidate=item))
    return entries


def is_folder(root: str) -> bool:
    """Whether ``root`` (local or ``gs://``) is a folder."""
    if folder_walk.is_remote(root):
        import tensorflow as tf  # pylint: disable=g-import-not-at-top
        return tf.io.gfile.isdir(root)
    return os.path.isdir(root)


Read = Union[bytes, folder_walk.Skipped]


def _read_one(entry: Entry, max_file_bytes: int, max_pixels: int) -> Read:
    """The servable bytes of one listed file, or why it cannot be classified."""
    if entry.skipped is not None:
        return entry.skipped
    data = folder_walk.read_candidate(entry.candidate, max_file_bytes)
    if isinstance(data, folder_walk.Skipped):
        return data
    try:
        info = images.inspect_image(data, max_pixels)
        return servable(data, info.format)
    except images.BadImage as bad:
        return folder_walk.Skipped(entry.path, bad.reason, bad.detail)


def read_batch(entries: Sequence[Entry], pool: concurrent.futures.Executor,
               max_file_bytes: int = folder_walk.DEFAULT_MAX_FILE_MB * 2**20,
               max_pixels: int = images.DEFAULT_MAX_PIXELS) -> List[Tuple[Entry, Read]]:
    """Reads and checks a batch of entries in ``pool``; each with its bytes or its reason."""
    results = pool.map(lambda entry: _read_one(entry, max_file_bytes, max_pixels), entries)
    return list(zip(entries, results))
