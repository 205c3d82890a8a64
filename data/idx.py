"""Reader and writer of the IDX format used by the canonical (Fashion-)MNIST files.

An IDX file is a big-endian header -- two zero bytes, a type code, the number
of dimensions, then one uint32 per dimension -- followed by the data. The
Fashion-MNIST files are gzip-compressed; both plain and gzip files are read.
Paths may be local or on any file system ``tf.io.gfile`` knows (``gs://``).
"""

from __future__ import annotations

import gzip
import io
import struct
from typing import Tuple

import numpy as np

_GZIP_MAGIC = b"\x1f\x8b"
_UBYTE_TYPE = 0x08
IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions
LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension


class IdxFormatError(ValueError):
    """An IDX file is malformed; the message names the file."""


def _open_binary(path: str):
    # Imported here so that reading local files never pays TensorFlow's import.
    if "://" in path:
        import tensorflow as tf  # pylint: disable=g-import-not-at-top
        return tf.io.gfile.GFile(path, "rb")
    return open(path, "rb")


def read_bytes(path: str) -> bytes:
    """Returns the decompressed content of an IDX file (gzip or plain).

    Raises:
      FileNotFoundError: the file does not exist.
      IdxFormatError: the gzip stream is corrupt or truncated.
    """
    try:
        with _open_binary(path) as f:
            raw = f.read()
    except FileNotFoundError:
        raise
    except Exception as e:  # tf.errors.NotFoundError and friends
        if type(e).__name__ == "NotFoundError":
            raise FileNotFoundError(f"IDX file not found: {path}") from e
        raise
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, ValueError) as e:
        raise IdxFormatError(f"{path}: corrupt or truncated gzip stream ({e})") from e


def parse_idx(content: bytes, expected_magic: int, path: str) -> np.ndarray:
    """Parses the bytes of an IDX file of unsigned bytes.

    Args:
      content: the decompressed file content.
      expected_magic: ``IMAGES_MAGIC`` or ``LABELS_MAGIC``.
      path: the file's path, used in error messages.

    Returns:
      A uint8 array with the dimensions of the header.

    Raises:
      IdxFormatError: wrong magic number, truncated header or data, or
        trailing bytes after the data.
    """
    if len(content) < 4:
        raise IdxFormatError(f"{path}: file too short for an IDX header ({len(content)} bytes)")
    (magic,) = struct.unpack(">I", content[:4])
    if magic != expected_magic:
        raise IdxFormatError(
            f"{path}: wrong magic number 0x{magic:08x}, expected 0x{expected_magic:08x} "
            f"({'images' if expected_magic == IMAGES_MAGIC else 'labels'} file)")
    ndim = magic & 0xFF
    header_size = 4 + 4 * ndim
    if len(content) < header_size:
        raise IdxFormatError(f"{path}: truncated header ({len(content)} of {header_size} bytes)")
    dims = struct.unpack(f">{ndim}I", content[4:header_size])
    expected = int(np.prod(dims, dtype=np.int64))
    actual = len(content) - header_size
    if actual < expected:
        raise IdxFormatError(
            f"{path}: truncated data, header promises {dims} = {expected} bytes, "
            f"file holds {actual}")
    if actual > expected:
        raise IdxFormatError(
            f"{path}: {actual - expected} unexpected bytes after the {dims} data")
    return np.frombuffer(content, dtype=np.uint8, offset=header_size).reshape(dims)


def read_images(path: str, expected_shape: Tuple[int, int] | None = None) -> np.ndarray:
    """Reads an IDX images file into a uint8 array of shape [N, rows, cols].

    Args:
      path: local or ``gs://`` path of the file, gzip or plain.
      expected_shape: (rows, cols) each image must have, or None for any.

    Raises:
      FileNotFoundError: the file does not exist.
      IdxFormatError: the file is malformed or its images have another size.
    """
    images = parse_idx(read_bytes(path), IMAGES_MAGIC, path)
    if expected_shape is not None and tuple(images.shape[1:]) != tuple(expected_shape):
        raise IdxFormatError(
            f"{path}: images are {images.shape[1]}x{images.shape[2]}, "
            f"expected {expected_shape[0]}x{expected_shape[1]}")
    return images


def read_labels(path: str, num_classes: int | None = None) -> np.ndarray:
    """Reads an IDX labels file into a uint8 array of shape [N].

    Args:
      path: local or ``gs://`` path of the file, gzip or plain.
      num_classes: when given, every label must be below it.

    Raises:
      FileNotFoundError: the file does not exist.
      IdxFormatError: the file is malformed or holds an out-of-range label.
    """
    labels = parse_idx(read_bytes(path), LABELS_MAGIC, path)
    if num_classes is not None and labels.size and int(labels.max()) >= num_classes:
        bad = int(np.argmax(labels >= num_classes))
        raise IdxFormatError(
            f"{path}: label {int(labels[bad])} at index {bad} is outside 0..{num_classes - 1}")
    return labels


def encode_idx(array: np.ndarray) -> bytes:
    """Encodes a uint8 array (1 or 3 dimensions) as IDX bytes."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = struct.pack(">BBBB", 0, 0, _UBYTE_TYPE, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def write_idx(path: str, array: np.ndarray, compress: bool = True) -> None:
    """Writes a uint8 array as an IDX file, gzip-compressed when ``compress``."""
    content = encode_idx(array)
    if compress:
        buffer = io.BytesIO()
        with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz:
            gz.write(content)
        content = buffer.getvalue()
    if "://" in path:
        import tensorflow as tf  # pylint: disable=g-import-not-at-top
        with tf.io.gfile.GFile(path, "wb") as f:
            f.write(content)
    else:
        with open(path, "wb") as f:
            f.write(content)
