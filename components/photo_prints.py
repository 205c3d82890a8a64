"""Prints on rendered garments: stripes, dots or blotches in a second colour.

Real garments are often printed (a striped shirt, a floral skirt, a polka-dot
dress), and where a print's second colour is near the background's the
normalization lights only part of the garment, in pieces (decision 0028).
:func:`print_colours` gives each rendered object its colour per pixel: its
own colour, or for a share of the objects (``PhotoConfig.prints``) that
colour with a pattern in a second one, half the time near the background's.
"""

from __future__ import annotations

import math

import tensorflow as tf

from imagepipe.components.photo_scene import uniform

STRIPES, DOTS, BLOTCHES = 0, 1, 2
PRINT_CYCLES = (3.0, 10.0)  # (min, max) repeats of a stripe or dot pattern across the canvas
BLOTCH_CELLS = 9  # a blotch pattern: random values on this many cells a side, smoothed
NEAR_BACKGROUND = 0.5  # share of the prints whose second colour is near the background's
NEAR_BACKGROUND_SPREAD = 0.06  # how far (per channel) such a colour may be from the background


def _coordinates(seed, count: tf.Tensor, side) -> tuple:
    """Each canvas's pixel coordinates in [0, 1], turned by a random angle: (along, across)."""
    angle = uniform(seed, 0.0, math.pi, [count])[:, None, None]
    position = tf.linspace(0.0, 1.0, side)
    rows, columns = position[None, :, None], position[None, None, :]
    along = columns * tf.cos(angle) + rows * tf.sin(angle)
    across = rows * tf.cos(angle) - columns * tf.sin(angle)
    return along, across


def pattern_masks(seed, count: tf.Tensor, side) -> tf.Tensor:
    """[N, side, side] bool: stripes, dots or blotches, one kind and scale drawn per canvas."""
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 6)
    along, across = _coordinates(seeds[0], count, side)
    cycles = uniform(seeds[1], *PRINT_CYCLES, [count])[:, None, None] * 2.0 * math.pi
    phase = uniform(seeds[2], 0.0, 2.0 * math.pi, [count])[:, None, None]
    # A threshold per canvas sets how much of it the second colour covers.
    level = uniform(seeds[3], -0.5, 0.5, [count])[:, None, None]
    stripes = tf.sin(cycles * along + phase) > level
    dots = tf.cos(cycles * along + phase) + tf.cos(cycles * across + phase) > 1.0 + level
    coarse = uniform(seeds[4], -1.0, 1.0, [count, BLOTCH_CELLS, BLOTCH_CELLS, 1])
    blotches = tf.image.resize(coarse, [side, side], method="bicubic")[..., 0] > level
    kind = tf.random.stateless_uniform([count], seeds[5], 0, 3, dtype=tf.int32)[:, None, None]
    return tf.where(kind == STRIPES, stripes, tf.where(kind == DOTS, dots, blotches))


def print_colours(seed, colour: tf.Tensor, base: tf.Tensor, side, share: float) -> tf.Tensor:
    """Each object's colour per pixel, [N, side, side, 3]; a ``share`` of them printed.

    Args:
      seed: int [2] stateless seed.
      colour: [N, 3] each object's own colour.
      base: [N, 3] each background's colour.
      side: the canvas side.
      share: probability that an object is printed.
    """
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 5)
    count = tf.shape(colour)[0]
    printed = uniform(seeds[0], 0.0, 1.0, [count]) < share
    near = base + uniform(seeds[1], -NEAR_BACKGROUND_SPREAD, NEAR_BACKGROUND_SPREAD, [count, 3])
    anything = uniform(seeds[2], 0.0, 1.0, [count, 3])
    second = tf.clip_by_value(tf.where(
        (uniform(seeds[3], 0.0, 1.0, [count]) < NEAR_BACKGROUND)[:, None], near, anything),
        0.0, 1.0)
    mask = tf.logical_and(pattern_masks(seeds[4], count, side), printed[:, None, None])
    return tf.where(mask[..., None], second[:, None, None, :], colour[:, None, None, :])
