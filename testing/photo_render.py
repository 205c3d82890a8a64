"""Renders Fashion-MNIST images as photo-like pictures: a benchmark without real photos.

Fashion-MNIST images are the negatives of product photos, trimmed and fitted
into 28x28. This module goes the other way, with Pillow and numpy (a
different implementation and different ranges than the training-time
rendering in ``components/photo_render.py``, so the benchmark is not the training
distribution): each image becomes a larger, non-square JPEG with a light,
coloured, textured or gradient background, a coloured object at a random
place and size with margins, and JPEG artefacts. The pictures are written into
a labelled folder, one sub-folder per class, that any photo-folder tool of
imagepipe reads (``imagepipe evaluate --photos DIR``).
"""

from __future__ import annotations

import dataclasses
import io
import os
from typing import Dict, Sequence

import numpy as np
from PIL import Image, ImageFilter


@dataclasses.dataclass(frozen=True)
class RenderConfig:
    """Ranges of the benchmark's photo conditions.

    Attributes:
      width: (min, max) picture width in pixels.
      aspect: (min, max) height / width.
      object_fraction: (min, max) share of the shorter side the object spans.
      dark_background: probability of a dark background instead of a light one.
      jpeg_quality: (min, max) JPEG quality.
    """

    width: tuple = (96, 320)
    aspect: tuple = (0.75, 1.4)
    object_fraction: tuple = (0.45, 0.9)
    dark_background: float = 0.15
    jpeg_quality: tuple = (35, 90)


def _background(rng: np.random.Generator, height: int, width: int, dark: bool) -> np.ndarray:
    base = rng.uniform(0.0, 0.25, 3) if dark else rng.uniform(0.75, 1.0, 3)
    kind = rng.integers(3)
    if kind == 0:  # flat with fine noise (studio)
        field = np.zeros((height, width, 1))
    elif kind == 1:  # gradient (uneven light)
        field = np.linspace(-1, 1, height)[:, None, None] * rng.uniform(0.02, 0.08)
        field = np.broadcast_to(field, (height, width, 1))
    else:  # soft texture (fabric, wall)
        coarse = Image.fromarray((rng.random((8, 8)) * 255).astype(np.uint8))
        field = np.asarray(coarse.resize((width, height), Image.BICUBIC), np.float64)[..., None]
        field = (field / 255.0 - 0.5) * rng.uniform(0.04, 0.12)
    return np.clip(base + field + rng.normal(0, 0.01, (height, width, 3)), 0.0, 1.0)


def render(image: np.ndarray, rng: np.random.Generator,
           config: RenderConfig = RenderConfig()) -> bytes:
    """Renders one uint8 [28, 28] Fashion-MNIST image as JPEG bytes of a photo-like picture."""
    width = int(rng.integers(config.width[0], config.width[1] + 1))
    height = int(width * rng.uniform(*config.aspect))
    side = max(12, int(min(width, height) * rng.uniform(*config.object_fraction)))
    alpha = Image.fromarray(image).resize((side, side), Image.BICUBIC)
    if rng.random() < 0.5:
        alpha = alpha.transpose(Image.FLIP_LEFT_RIGHT)
    alpha = np.asarray(alpha, np.float64)[..., None] / 255.0
    dark = rng.random() < config.dark_background
    colour = rng.uniform(0.7, 1.0, 3) if dark else rng.uniform(0.0, 0.4, 3)
    picture = _background(rng, height, width, dark)
    top = int(rng.integers(0, height - side + 1))
    left = int(rng.integers(0, width - side + 1))
    region = picture[top:top + side, left:left + side]
    picture[top:top + side, left:left + side] = region * (1 - alpha) + colour * alpha
    result = Image.fromarray((picture * 255).astype(np.uint8))
    if rng.random() < 0.5:
        result = result.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.2)))
    buffer = io.BytesIO()
    result.save(buffer, format="JPEG", quality=int(rng.integers(*config.jpeg_quality)))
    return buffer.getvalue()


def write_benchmark(directory: str, images: np.ndarray, labels: Sequence[int],
                    class_names: Sequence[str], ids: Sequence[str], seed: int = 1001,
                    config: RenderConfig = RenderConfig()) -> Dict[str, int]:
    """Writes every image as ``<directory>/<class name>/<id>.jpg``.

    Args:
      directory: the benchmark folder (created).
      images: uint8 [N, 28, 28] Fashion-MNIST images.
      labels: class id of each image (an index into ``class_names``).
      class_names: the folder name of each class.
      ids: a file-name-safe id per image.
      seed: seed of every random choice.
      config: ranges of the photo conditions.

    Returns:
      Pictures written per class.
    """
    rng = np.random.default_rng(seed)
    counts: Dict[str, int] = {}
    for image, label, image_id in zip(images, labels, ids):
        name = class_names[int(label)]
        folder = os.path.join(directory, name)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"{image_id}.jpg"), "wb") as f:
            f.write(render(image, rng, config))
        counts[name] = counts.get(name, 0) + 1
    return counts
