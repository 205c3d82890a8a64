"""A photo's background: a plane fitted to its upper border, its palette, each pixel's distance.

Every function takes a batch of equal-sized photos, [N, H, W, ...]; one photo
is a batch of one.
"""

from __future__ import annotations

import tensorflow as tf

from imagepipe.components.normalize.ops import (batch_quantile, corners, medians, ring,
                                                upper_border)
from imagepipe.components.normalize.parameters import DEFAULT, Parameters


def photo_backgrounds(images: tf.Tensor, params: Parameters = DEFAULT) -> tf.Tensor:
    """The background of [N, H, W, C] photos per channel: a plane, robust to a cut-off.

    The level is the median of the upper border (a garment cut off by the frame
    runs off its bottom and sides: a body, a folded pile), or of the corners
    (``params.corners``, :func:`background_samples`); the lighting slopes,
    from the medians of the top and bottom rows and of the upper halves of the
    side columns, are bounded so that an object on one line cannot tilt the
    plane into it.
    """
    slope = params.max_lighting_slope
    half = tf.maximum(tf.shape(images)[1] // 2, 1)
    level = medians(background_samples(images, params))
    vertical = tf.clip_by_value(medians(images[:, -1]) - medians(images[:, 0]), -slope, slope)
    horizontal = tf.clip_by_value(medians(images[:, :half, -1]) - medians(images[:, :half, 0]),
                                  -slope, slope)
    ys = tf.linspace(0.0, 1.0, tf.shape(images)[1])[None, :, None, None]
    xs = tf.linspace(-0.5, 0.5, tf.shape(images)[2])[None, None, :, None]
    return (level[:, None, None] + vertical[:, None, None] * ys
            + horizontal[:, None, None] * xs)


def background_samples(images: tf.Tensor, params: Parameters = DEFAULT) -> tf.Tensor:
    """Where the background is sampled, [N, K, ...]: the upper border, or the ``corners``."""
    return corners(images, params.corners) if params.corners > 0.0 else upper_border(images)


def photo_background(image: tf.Tensor, params: Parameters = DEFAULT) -> tf.Tensor:
    """:func:`photo_backgrounds` of one [H, W] or [H, W, C] photo, in its shape."""
    planes = image if image.shape.rank == 3 else image[..., tf.newaxis]
    background = photo_backgrounds(planes[tf.newaxis], params)[0]
    return background if image.shape.rank == 3 else background[..., 0]


def background_palette(rgb: tf.Tensor, plane_distance: tf.Tensor,
                       params: Parameters = DEFAULT):
    """The colours of each photo's background as sampled where its plane's level is.

    ``palette_size`` pixels evenly along :func:`background_samples` (the upper
    border: the top row and the upper halves of the sides; or the corners); a
    sample farther from the plane than ``palette_spread`` times their median
    distance (plus ``palette_margin``) is not background but the object or
    glare on it, and is left out of the palette.

    Args:
      rgb: float [N, H, W, 3] photos.
      plane_distance: float [N, H, W], each pixel's distance to the plane.
      params: the tuning parameters.

    Returns:
      float [N, palette_size, 3] colours, bool [N, palette_size] (kept) and
      float [N], the kept colours' largest distance to the plane: how much
      the background itself deviates from it.
    """
    line = background_samples(rgb, params)
    line_distance = background_samples(plane_distance, params)
    length = tf.shape(line)[1]
    samples = tf.cast(tf.linspace(0.0, tf.cast(length - 1, tf.float32), params.palette_size),
                      tf.int32)
    colours = tf.gather(line, samples, axis=1)
    distances = tf.gather(line_distance, samples, axis=1)
    cutoff = (params.palette_spread * batch_quantile(line_distance, 0.5)
              + params.palette_margin)
    kept = distances <= cutoff[:, None]
    return colours, kept, tf.reduce_max(tf.where(kept, distances, 0.0), axis=1)


def palette_distance(rgb: tf.Tensor, colours: tf.Tensor, kept: tf.Tensor,
                     params: Parameters = DEFAULT) -> tf.Tensor:
    """[N, H, W]: each pixel's distance (largest channel) to the nearest kept palette colour.

    Compared at 1/``palette_scale`` of the size and resized back.
    """
    size = tf.shape(rgb)[1:3]
    small = tf.image.resize(rgb, tf.maximum(size // params.palette_scale, 1), method="area")
    # A colour left out of the palette is moved out of reach: no pixel is near it.
    colours = tf.where(kept[..., tf.newaxis], colours, params.out_of_reach)[:, None, None]
    nearest = tf.reduce_min(tf.maximum(tf.maximum(
        tf.abs(small[..., 0:1] - colours[..., 0]), tf.abs(small[..., 1:2] - colours[..., 1])),
        tf.abs(small[..., 2:3] - colours[..., 2])), axis=-1)
    return tf.image.resize(tf.minimum(nearest, 1.0)[..., tf.newaxis], size,
                           method="bilinear")[..., 0]


def distance_to_background(rgb: tf.Tensor, params: Parameters = DEFAULT) -> tf.Tensor:
    """How far each pixel of [N, H, W, 3] is from its background, [N, H, W] in [0, 1].

    The background of each channel is :func:`photo_backgrounds`, a plane; the
    distance is the largest channel's deviation from it, so a garment differs
    by colour, by lightness or both, whichever polarity: light on light and
    dark on dark stay visible. A textured background (wooden planks and their
    grain, a pattern) deviates from any plane, so a pixel whose colour is on
    the background's palette (:func:`background_palette`) is as far as its
    nearest palette colour when that is nearer, but by no more than the
    palette's own deviation from the plane (a garment in the colour of a
    shadow elsewhere on the border stays visible). The noise level, from the
    differences of neighbouring pixels along the border (an object on the
    border is smooth there too), is subtracted.
    """
    plane_distance = tf.reduce_max(tf.abs(rgb - photo_backgrounds(rgb, params)), axis=-1)
    colours, kept, span = background_palette(rgb, plane_distance, params)
    distance = tf.minimum(plane_distance,
                          tf.maximum(palette_distance(rgb, colours, kept, params),
                                     plane_distance - span[:, None, None]))
    path = ring(distance)
    noise = params.noise_factor * batch_quantile(tf.abs(path - tf.roll(path, 1, axis=1)), 0.5)
    return tf.nn.relu(distance - noise[:, None, None])
