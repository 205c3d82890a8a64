"""Generators of tiny, valid and learnable data sets for tests and demos.

The generated Fashion-MNIST stand-in has the canonical file names and format,
so every code path that reads the real files reads it. Each original class is
drawn as its own shape (bars, blocks, diagonals...) with noise, so that a small
CNN learns the super-classes in a few epochs and tests can assert that a model
really learnt something.
"""

from __future__ import annotations

import os
from typing import Dict, Tuple

import numpy as np
from PIL import Image

from imagepipe.data import fashion_mnist, idx

SIZE = 28


def _class_pattern(label: int) -> np.ndarray:
    """Returns a float [28, 28] template in [0, 1] that is distinct per label."""
    canvas = np.zeros((SIZE, SIZE), np.float32)
    if label in (0, 2, 3, 4, 6):  # upper clothes: a wide block at the top
        canvas[4:16, 4:24] = 1.0
        canvas[4:6 + label, 2:26] = 0.8  # sleeves, longer for higher labels
    elif label == 1:  # trousers: two vertical legs
        canvas[3:26, 8:12] = 1.0
        canvas[3:26, 16:20] = 1.0
    elif label in (5, 7, 9):  # shoes: a low wide block at the bottom
        canvas[18:25, 3:25] = 1.0
        canvas[12:18, 3:3 + label] = 0.7
    else:  # bag: a body with a thin handle
        canvas[10:23, 5:23] = 1.0
        canvas[5:10, 10:12] = 0.8
        canvas[5:10, 16:18] = 0.8
        canvas[5:7, 10:18] = 0.8
    return canvas


def frame_like_fashion_mnist(canvas: np.ndarray, size: int = SIZE) -> np.ndarray:
    """Trims a float [H, W] image to its object and fits the longest side to ``size``, centred.

    This is how Fashion-MNIST's images were made; the odd pixel of margin goes
    before the object.
    """
    rows = np.flatnonzero(canvas.max(axis=1) > 0.05)
    cols = np.flatnonzero(canvas.max(axis=0) > 0.05)
    if not len(rows) or not len(cols):
        return np.zeros((size, size), np.float32)
    crop = canvas[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    scale = size / max(crop.shape)
    height = min(size, max(1, round(crop.shape[0] * scale)))
    width = min(size, max(1, round(crop.shape[1] * scale)))
    resized = Image.fromarray(crop.astype(np.float32), mode="F").resize((width, height),
                                                                         Image.BILINEAR)
    framed = np.zeros((size, size), np.float32)
    top, left = (size - height + 1) // 2, (size - width + 1) // 2
    framed[top:top + height, left:left + width] = np.asarray(resized)
    return framed


def generate_images(labels: np.ndarray, seed: int = 0) -> np.ndarray:
    """Draws one noisy 28x28 uint8 image per label, framed like Fashion-MNIST.

    A light object on an exactly black background, trimmed and fitted so that
    its longest side spans the image.
    """
    rng = np.random.default_rng(seed)
    images = np.empty((len(labels), SIZE, SIZE), np.uint8)
    for i, label in enumerate(labels):
        template = _class_pattern(int(label))
        noisy = template * rng.uniform(0.6, 1.0) + rng.normal(0.0, 0.08, template.shape)
        noisy = np.where(template > 0, np.clip(noisy, 0.1, None), 0.0)
        noisy = noisy / noisy.max()  # Fashion-MNIST images all peak at (nearly) white
        images[i] = np.clip(frame_like_fashion_mnist(noisy) * 255.0, 0, 255).astype(np.uint8)
    return images


def write_fashion_mnist(directory: str, train_per_label: int = 30, test_per_label: int = 6,
                        seed: int = 0, compress: bool = True) -> Dict[str, int]:
    """Writes a tiny Fashion-MNIST in the canonical IDX layout.

    Args:
      directory: where to write the four files (created if missing).
      train_per_label: images per original label in the train part.
      test_per_label: images per original label in the t10k part.
      seed: random seed of the drawing.
      compress: gzip the files as the canonical ones are.

    Returns:
      The number of images per part, e.g. ``{"train": 300, "t10k": 60}``.
    """
    os.makedirs(directory, exist_ok=True)
    rng = np.random.default_rng(seed)
    counts = {}
    per_label = {"train": train_per_label, "t10k": test_per_label}
    for offset, (part, images_name, labels_name) in enumerate(fashion_mnist.PARTS):
        labels = np.repeat(np.arange(fashion_mnist.NUM_LABELS, dtype=np.uint8), per_label[part])
        labels = rng.permutation(labels)
        images = generate_images(labels, seed=seed + offset + 1)
        name = images_name if compress else images_name[:-3]
        idx.write_idx(os.path.join(directory, name), images, compress)
        name = labels_name if compress else labels_name[:-3]
        idx.write_idx(os.path.join(directory, name), labels, compress)
        counts[part] = len(labels)
    return counts


def labelled_images(num_per_label: int = 10, seed: int = 0
                    ) -> Tuple[np.ndarray, np.ndarray]:
    """Returns (images uint8 [N, 28, 28], labels uint8 [N]) drawn in memory."""
    labels = np.repeat(np.arange(fashion_mnist.NUM_LABELS, dtype=np.uint8), num_per_label)
    return generate_images(labels, seed), labels
