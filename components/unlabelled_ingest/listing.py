"""The checked listing of an unlabelled folder, and one photo's tf.Example."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import os
from typing import Iterator, List, Tuple, Union

import tensorflow as tf

from imagepipe.components import features
from imagepipe.components.folder_ingest.examples import ChangedFileError
from imagepipe.data import folder_walk, images, photo_folder


@dataclasses.dataclass(frozen=True)
class Photo:
    """A file that decoded fully as a supported image.

    Attributes:
      path: relative to the folder, ``/``-separated, printable.
      location: the file's absolute path or URL.
      size_bytes: its size when checked.
      content_hash: SHA-256 of its bytes when checked, hex.
    """

    path: str
    location: str
    size_bytes: int
    content_hash: str


@dataclasses.dataclass(frozen=True)
class Listing:
    """What the folder holds: entries seen, photos in path order, skipped entries."""

    seen: int
    photos: Tuple[Photo, ...]
    skipped: Tuple[folder_walk.Skipped, ...]


def _check(candidate: folder_walk.Candidate, max_file_bytes: int,
           max_pixels: int) -> Union[Photo, folder_walk.Skipped]:
    """The photo a file is, or why it is skipped (unreadable, too large, not an image...)."""
    data = folder_walk.read_candidate(candidate, max_file_bytes)
    if isinstance(data, folder_walk.Skipped):
        return data
    path = folder_walk.display_path(candidate.parts)
    try:
        images.inspect_image(data, max_pixels)
    except images.BadImage as bad:
        return folder_walk.Skipped(path, bad.reason, bad.detail)
    return Photo(path, candidate.location, len(data), photo_folder.content_hash(data))


def list_folder(root: str, max_file_bytes: int, max_pixels: int,
                follow_links: bool = False) -> Listing:
    """Walks ``root`` and checks every file by decoding it, in parallel threads.

    Args:
      root: the unlabelled folder, local or gs://.
      max_file_bytes: larger files are skipped unread.
      max_pixels: images with more pixels are skipped as decompression bombs.
      follow_links: follow symbolic links leading outside the folder.

    Returns:
      The listing; every entry seen is a photo or a skipped entry.
    """
    walked = list(folder_walk.walk(root, follow_links))
    candidates = [item for item in walked if isinstance(item, folder_walk.Candidate)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        checked = list(pool.map(lambda c: _check(c, max_file_bytes, max_pixels), candidates))
    skipped = [item for item in walked + checked if isinstance(item, folder_walk.Skipped)]
    return Listing(seen=len(walked),
                   photos=tuple(item for item in checked if isinstance(item, Photo)),
                   skipped=tuple(sorted(skipped, key=lambda item: item.path)))


def _bytes_feature(value: bytes) -> tf.train.Feature:
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))


def make_example(photo: Photo, normalised: bytes) -> tf.train.Example:
    """The tf.Example of one unlabelled photo: its normalised copy, path, hash and id."""
    return tf.train.Example(features=tf.train.Features(feature={
        features.IMAGE_KEY: _bytes_feature(normalised),
        features.RELATIVE_PATH_KEY: _bytes_feature(photo.path.encode()),
        features.CONTENT_HASH_KEY: _bytes_feature(photo.content_hash.encode()),
        features.EXAMPLE_ID_KEY: _bytes_feature(photo.path.encode()),
    }))


def build_example(photo: Photo, max_side: int, max_pixels: int) -> tf.train.Example:
    """Reads one checked photo again, checks it is unchanged, and normalises it.

    Raises:
      ChangedFileError: the file's content is not what the listing checked.
    """
    changed = ChangedFileError(f"{photo.location} changed while it was being ingested; "
                               f"rerun the pipeline")
    try:
        data = folder_walk.read_file(photo.location, photo.size_bytes)
    except Exception:  # pylint: disable=broad-except
        raise changed from None
    if photo_folder.content_hash(data) != photo.content_hash:
        raise changed
    return make_example(photo, images.stored_copy(data, max_side=max_side, max_pixels=max_pixels))


def examples_of_chunk(chunk: Tuple[List[Photo], int, int]) -> Iterator[tf.train.Example]:
    """The examples of one Beam element (photos, max side, max pixels), in parallel threads."""
    photos, max_side, max_pixels = chunk
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        yield from pool.map(lambda photo: build_example(photo, max_side, max_pixels), photos)
