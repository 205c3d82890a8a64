"""One photo's tf.Example: read again, checked against the scan, normalised, in Beam chunks."""

from __future__ import annotations

import concurrent.futures
import os
from typing import Iterable, Iterator, List, Sequence, Tuple

import tensorflow as tf

from imagepipe.components import features
from imagepipe.data import images, photo_folder

# What one Beam element carries: (folder, [(photo, class id), ...], max_side, max_pixels).
Chunk = Tuple[str, List[Tuple[photo_folder.Photo, int]], int, int]


class ChangedFileError(RuntimeError):
    """A file changed between the scan and the writing of its example."""


def _bytes_feature(value: bytes) -> tf.train.Feature:
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))


def make_example(photo: photo_folder.Photo, class_id: int, original: bytes,
                 normalised: bytes) -> tf.train.Example:
    """Builds the raw tf.Example of one photo.

    Args:
      photo: what the scan found (path, class, format, content hash).
      class_id: the photo's class id.
      original: the file's own bytes.
      normalised: the normalised RGB copy, as PNG.

    Returns:
      The example with every feature of ``features.PHOTO_RAW_FEATURE_KEYS``.
    """
    return tf.train.Example(features=tf.train.Features(feature={
        features.IMAGE_KEY: _bytes_feature(normalised),
        features.ORIGINAL_IMAGE_KEY: _bytes_feature(original),
        features.ORIGINAL_FORMAT_KEY: _bytes_feature(photo.format.encode()),
        features.LABEL_KEY: tf.train.Feature(int64_list=tf.train.Int64List(value=[class_id])),
        features.LABEL_NAME_KEY: _bytes_feature(photo.class_name.encode()),
        features.SOURCE_FOLDER_KEY: _bytes_feature(photo.folder.encode()),
        features.RELATIVE_PATH_KEY: _bytes_feature(photo.path.encode()),
        features.CONTENT_HASH_KEY: _bytes_feature(photo.content_hash.encode()),
        features.EXAMPLE_ID_KEY: _bytes_feature(photo.path.encode()),
    }))


def _location(root: str, photo: photo_folder.Photo) -> str:
    return root.rstrip("/") + "/" + photo.path if "://" in root else os.path.join(
        root, *photo.path.split("/"))


def build_example(root: str, photo: photo_folder.Photo, class_id: int, max_side: int,
                  max_pixels: int) -> tf.train.Example:
    """Reads, checks and normalises one accepted photo into its tf.Example.

    Args:
      root: the photo folder, local or gs://.
      photo: what the scan found; ``photo.path`` is relative to ``root``.
      class_id: the photo's class id.
      max_side: longer side of the normalised copy.
      max_pixels: images with more pixels are refused as decompression bombs.

    Returns:
      The photo's example.

    Raises:
      ChangedFileError: the file's content is not what the scan saw.
    """
    location = _location(root, photo)
    changed = ChangedFileError(f"{location} changed while it was being ingested; rerun the "
                               f"pipeline")
    try:
        original = photo_folder.read_file(location, photo.size_bytes)
    except photo_folder.FileTooLarge:  # it grew: read no further than its scanned size
        raise changed from None
    except Exception as error:  # pylint: disable=broad-except
        raise ChangedFileError(f"{location}: could be read during the scan but not now "
                               f"({error}); rerun the pipeline") from None
    if photo_folder.content_hash(original) != photo.content_hash:
        raise changed
    normalised = images.stored_copy(original, max_side=max_side, max_pixels=max_pixels)
    return make_example(photo, class_id, original, normalised)


def examples_of_chunk(chunk: Chunk) -> Iterator[tf.train.Example]:
    """The examples of one Beam element's photos, built in parallel threads."""
    root, photos, max_side, max_pixels = chunk
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        yield from pool.map(
            lambda item: build_example(root, item[0], item[1], max_side, max_pixels), photos)


def chunks(items: Sequence, size: int) -> Iterable[Sequence]:
    """``items`` in consecutive slices of ``size`` (the last one shorter)."""
    return (items[i:i + size] for i in range(0, len(items), size))
