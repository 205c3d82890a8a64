"""Lossless 8-bit grayscale PNG encoding, written directly (no Pillow).

Fashion-MNIST's examples and the tests' generated images are encoded here.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, kind, data, CRC."""
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def encode_gray(image: np.ndarray) -> bytes:
    """Encodes a uint8 [H, W] grayscale image as PNG bytes (lossless, 8-bit gray).

    Written directly (signature, IHDR, one zlib IDAT with no row filters,
    IEND): five times faster than through Pillow for Fashion-MNIST's small
    images, and decoded to the same pixels by every PNG reader.
    """
    image = np.ascontiguousarray(image, dtype=np.uint8)
    height, width = image.shape
    rows = np.zeros((height, width + 1), np.uint8)  # a 0 (no filter) byte before each row
    rows[:, 1:] = image
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grayscale
    # Level 1: on Fashion-MNIST 2.5% larger than level 6 (469 against 457 bytes an image)
    # for a third less time, the largest part of encoding 63,000 images.
    return (SIGNATURE + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(rows.tobytes(), 1)) + _chunk(b"IEND", b""))
