"""Measures one photo for the drift checks between spans: its size, brightness and colour.

A photo is measured from two encodings ingestion keeps: the file's own bytes
give its size as shown (EXIF orientation applied, read from the header only),
and the normalised RGB copy gives its mean brightness and mean red, green and
blue, each in [0, 1]. These are what changes when a new camera, new lighting
or a new background arrives with a span.
"""

from __future__ import annotations

import io
from typing import Dict, Tuple

import numpy as np
from PIL import Image

from imagepipe.data import images

WIDTH, HEIGHT, BRIGHTNESS, RED, GREEN, BLUE = (
    "width", "height", "brightness", "red", "green", "blue")
MEASURES = (WIDTH, HEIGHT, BRIGHTNESS, RED, GREEN, BLUE)
SIZES = (WIDTH, HEIGHT)
# Fixed bucket edges of each measure's histogram, the same for every span, so that two spans'
# histograms compare like with like: sizes in quarter octaves (8 px to 32768 px; a camera's
# 533 and 534 px share a bucket), brightness and colour in twentieths of [0, 1].
_SIZE_EDGES = tuple(float(2 ** (k / 4)) for k in range(12, 61))
_SHARE_EDGES = tuple(i / 20 for i in range(21))
# ITU-R BT.601 luma weights of red, green and blue: brightness as people see it.
_LUMA = np.array([0.299, 0.587, 0.114])


def measure(original: bytes, normalised: bytes) -> Dict[str, float]:
    """The measures of one photo, by name (``MEASURES``).

    Args:
      original: the file's own bytes (any supported format).
      normalised: the normalised RGB copy (``images.stored_copy``).

    Raises:
      images.BadImage: ``original`` cannot be opened.
    """
    width, height = images.upright_size(original)
    with Image.open(io.BytesIO(normalised)) as image:
        pixels = np.asarray(image.convert("RGB"), dtype=np.float64) / 255.0
    red, green, blue = pixels.reshape(-1, 3).mean(axis=0)
    return {WIDTH: float(width), HEIGHT: float(height),
            BRIGHTNESS: float(_LUMA @ np.array([red, green, blue])),
            RED: float(red), GREEN: float(green), BLUE: float(blue)}


def bucket_edges(name: str) -> Tuple[float, ...]:
    """The fixed histogram bucket edges of measure ``name``, rising; values beyond go to the
    end buckets."""
    return _SIZE_EDGES if name in SIZES else _SHARE_EDGES
