"""Glare on photos: specular spots and their soft edge, removed unless they are the object.

Every function takes a batch of equal-sized photos, [N, H, W, 3] float in
[0, 1], and their distances to the background, [N, H, W]; one photo is a batch
of one.
"""

from __future__ import annotations

import tensorflow as tf

from imagepipe.components.normalize.background import photo_backgrounds
from imagepipe.components.normalize.foreground import foreground
from imagepipe.components.normalize.ops import (LUMA, batch_quantile, grown, max_filter, share,
                                                upper_border)
from imagepipe.components.normalize.parameters import DEFAULT, Parameters


def specular(rgb: tf.Tensor, params: Parameters = DEFAULT) -> tf.Tensor:
    """[N, H, W] bool: near-white pixels much lighter than the background: glare, reflections."""
    gray = tf.reduce_sum(rgb * LUMA, axis=-1)
    background = batch_quantile(upper_border(gray), 0.5)
    return tf.logical_and(tf.reduce_min(rgb, axis=-1) > params.specular_level,
                          gray > background[:, None, None] + params.specular_contrast)


def white_light(rgb: tf.Tensor, params: Parameters = DEFAULT) -> tf.Tensor:
    """[N, H, W] bool: pixels lighter than the background by ``glare_edge``, alike in every channel."""
    lift = rgb - photo_backgrounds(rgb, params)
    free = rgb < params.saturated
    most = tf.reduce_max(tf.where(free, lift, -1.0), axis=-1)
    least = tf.reduce_min(tf.where(free, lift, 1.0), axis=-1)
    alike = tf.logical_or(most - least <= params.glare_neutral, least > most)
    return tf.logical_and(tf.reduce_min(lift, axis=-1) > params.glare_edge, alike)


def glare_zone(rgb: tf.Tensor, distance: tf.Tensor, params: Parameters = DEFAULT) -> tf.Tensor:
    """[N, H, W] bool: glare spots and their soft edge; nothing when they are too big for glare.

    The spots are the specular pixels, grown into their surroundings as far as
    those are lighter than the background in every channel (the fading edge of
    a light spot), at most ``glare_growth`` pixels. A white garment on a dark
    floor is near white too: glare whose halo (``glare_halo`` pixels around
    it) covers more than ``glare_max_share`` of the photo is taken for the
    object and kept.
    """
    spots = tf.cast(specular(rgb, params), tf.float32)
    allowed = tf.maximum(tf.cast(tf.logical_and(white_light(rgb, params),
                                                distance > params.glare_edge), tf.float32),
                         spots)
    edge = spots
    for _ in range(params.glare_growth // 2):  # two pixels a step
        edge = max_filter(edge, 5) * allowed
    halo = max_filter(spots, params.glare_halo) > 0.0
    small = tf.reduce_mean(tf.cast(halo, tf.float32), axis=[1, 2]) <= params.glare_max_share
    return tf.logical_and(tf.logical_or(halo, edge > 0.0), small[:, None, None])


def without_glare(rgb: tf.Tensor, distance: tf.Tensor, params: Parameters = DEFAULT):
    """The distances of [N, H, W, 3] photos with their glare removed, and their foreground.

    Glare lies beside the object or on it. A photo whose foreground without
    the glare is smaller than the glare itself, or surrounds it (more than
    ``glare_enclosed`` of the glare's rim is foreground), was a light object (a
    white garment on a dark floor, its lightest parts), not glare on one: it
    keeps its distances as they were.

    Returns:
      float [N, H, W] distances and bool [N, H, W] :func:`~.foreground.foreground`.
    """
    return tf.cond(tf.reduce_any(specular(rgb, params)),
                   lambda: cleared_of_glare(rgb, distance, params),
                   lambda: (distance, foreground(distance, params)))


def cleared_of_glare(rgb: tf.Tensor, distance: tf.Tensor, params: Parameters = DEFAULT):
    """:func:`without_glare` of photos some of which have specular pixels."""
    zone = glare_zone(rgb, distance, params)
    cleared = tf.where(zone, 0.0, distance)
    mask = foreground(cleared, params)
    rim = tf.logical_and(grown(zone), tf.logical_not(zone))
    enclosed = tf.math.divide_no_nan(share(tf.logical_and(rim, mask)), share(rim))
    light_object = tf.logical_or(share(mask) < share(zone), enclosed > params.glare_enclosed)

    def kept():
        return (tf.where(light_object[:, None, None], distance, cleared),
                tf.where(light_object[:, None, None], foreground(distance, params), mask))

    return tf.cond(tf.reduce_any(light_object), kept, lambda: (cleared, mask))
