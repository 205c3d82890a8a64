"""Garments Fashion-MNIST lacks, cut from its own: shorts, skirts, spread legs and sleeves, pairs.

Fashion-MNIST's ``lower`` class is trousers only, so a model trained on it has
never seen shorts or skirts, which real photos of bottoms are full of. The
renderer (:func:`~imagepipe.components.photo_render.render_photos`) may turn a
pair of trousers into one of them before staging it:

- **shorts** (``PhotoConfig.shorts``): the trousers cut at the thigh, the legs
  a little flared;
- **a skirt** (``PhotoConfig.skirt``): the gap between the legs filled, each
  row the mean of its lit pixels, cut between mini and midi length and flared
  towards the hem (an A-line);
- **trousers with their legs apart** (``PhotoConfig.legs_apart``): each half
  swung out about the waist, as trousers lie spread out to be photographed.

A top may be laid flat with its **sleeves spread** (``PhotoConfig.sleeves_spread``):
the outer strips of its width swung out and up about the shoulders.

Each keeps its label: only the shape changes. The training stream also
recuts the copies of bottoms that oversampling adds, before they are
augmented (:func:`~imagepipe.components.trainer.balance.recut`).
Fashion-MNIST's shoes are side views; a pair photographed from above
(``PhotoConfig.pair``, ``PhotoConfig.top_view``) shows each shoe's outline,
symmetric about its length (:func:`seen_from_above`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import tensorflow as tf

from imagepipe.components.normalize import first_and_last
from imagepipe.components.normalize.ops import fitted_boxes, mask_boxes

if TYPE_CHECKING:
    from imagepipe.components.photo_render import PhotoConfig

LIT = 0.1  # intensity above which a pixel of a Fashion-MNIST image is the garment's
SHORTS_LENGTH = (0.3, 0.55)  # (min, max) share of the trousers' height that shorts keep
SHORTS_FLARE = (0.0, 0.3)  # (min, max) how much wider the hems than the waist, as a share
SKIRT_LENGTH = (0.35, 0.85)  # (min, max) share kept by a skirt: mini to midi
SKIRT_FLARE = (0.0, 0.8)
LEGS_APART_ANGLE = (6.0, 30.0)  # (min, max) degrees each leg of spread trousers swings out
SLEEVE_SHARE = 0.2  # the outer share of a top's width on each side taken for a sleeve
SHOULDER_DROP = 0.08  # the shoulders lie this share of a top's height below its top
SLEEVES_SPREAD_ANGLE = (45.0, 95.0)  # (min, max) degrees a spread sleeve swings out
SHORTS, SKIRT, LEGS_APART, AS_IT_IS = 0, 1, 2, 3  # the shapes a bottom is recut to
TOP_VIEW_WIDTH = (0.7, 1.0)  # (min, max) a shoe's width from above: a share of its side's height
TOP_VIEW_MAX_WIDTH = 0.42  # ... and at most this share of its length


def _uniform(seed, low: float, high: float, count) -> tf.Tensor:
    return tf.random.stateless_uniform([count], seed, low, high)


def _lit_rows(images: tf.Tensor):
    """First and last lit row of each [N, H, W, 1] image, as float32 [N]."""
    top, bottom, _ = first_and_last(tf.reduce_any(images[..., 0] > LIT, axis=2))
    return tf.cast(top, tf.float32), tf.cast(bottom, tf.float32)


def cut(images: tf.Tensor, lengths: tf.Tensor) -> tf.Tensor:
    """Each [N, H, W, 1] garment cut below ``lengths`` [N] of its lit height (a share)."""
    top, bottom = _lit_rows(images)
    end = top + lengths * (bottom - top + 1.0)
    rows = tf.range(tf.shape(images)[1], dtype=tf.float32)[None, :]
    return images * tf.cast(rows < end[:, None], images.dtype)[:, :, None, None]


def filled(images: tf.Tensor) -> tf.Tensor:
    """Each row's gap between its first and last lit pixel filled with the row's mean lit value."""
    plane = images[..., 0]
    lit = plane > LIT
    first, last, any_lit = first_and_last(tf.reshape(lit, [-1, tf.shape(plane)[2]]))
    first = tf.reshape(first, tf.shape(plane)[:2])
    last = tf.reshape(last, tf.shape(plane)[:2])
    columns = tf.range(tf.shape(plane)[2])[None, None, :]
    inside = (columns >= first[..., None]) & (columns <= last[..., None])
    inside &= tf.reshape(any_lit, tf.shape(plane)[:2])[..., None]
    lit_values = tf.where(lit, plane, 0.0)
    mean = (tf.reduce_sum(lit_values, axis=2)
            / tf.maximum(tf.reduce_sum(tf.cast(lit, tf.float32), axis=2), 1.0))
    return tf.where(inside, tf.maximum(plane, mean[..., None]), plane)[..., None]


def _sampled_along_rows(plane: tf.Tensor, source: tf.Tensor, inside: tf.Tensor) -> tf.Tensor:
    """[N, H, W]: each pixel read from its row of ``plane`` at float column ``source``.

    Linear interpolation between the two nearest columns; 0 where not ``inside``.
    """
    width = tf.shape(plane)[2]
    below = tf.floor(source)
    weight = source - below

    def at(column):
        return tf.gather(plane, tf.clip_by_value(tf.cast(column, tf.int32), 0, width - 1),
                         batch_dims=2)

    values = at(below) * (1.0 - weight) + at(below + 1.0) * weight
    return tf.where(inside, values, 0.0)


def flared(images: tf.Tensor, flares: tf.Tensor) -> tf.Tensor:
    """Each [N, H, W, 1] garment's rows widened about its centre column.

    The top lit row keeps its width, the bottom lit row is ``1 + flares`` [N]
    times as wide, and the rows between grow linearly (linear interpolation
    along each row).
    """
    plane = images[..., 0]
    width = tf.shape(plane)[2]
    top, bottom = _lit_rows(images)
    left, right, _ = first_and_last(tf.reduce_any(plane > LIT, axis=1))
    centre = tf.cast(left + right, tf.float32) / 2.0
    rows = tf.range(tf.shape(plane)[1], dtype=tf.float32)[None, :]
    progress = tf.clip_by_value((rows - top[:, None]) / tf.maximum(bottom - top, 1.0)[:, None],
                                0.0, 1.0)
    scale = 1.0 + flares[:, None] * progress
    columns = tf.range(width, dtype=tf.float32)[None, None, :]
    source = centre[:, None, None] + (columns - centre[:, None, None]) / scale[..., None]
    inside = (source >= 0.0) & (source <= tf.cast(width - 1, tf.float32))
    return _sampled_along_rows(plane, source, inside)[..., None]


def seen_from_above(images: tf.Tensor, seed) -> tf.Tensor:
    """Shoes' side views [N, H, W, 1], their length along the rows, as seen from above.

    Each row's lit span (the side view's height there) is narrowed to a share
    of itself drawn per shoe from ``TOP_VIEW_WIDTH``, at most
    ``TOP_VIEW_MAX_WIDTH`` of the shoe's length, and centred on the frame's
    middle column: the shoe becomes symmetric about its length, widest where
    its side view is highest, as its outline is from above, instead of a
    profile with a flat sole on one side.
    """
    plane = images[..., 0]
    height, width = tf.shape(plane)[1], tf.shape(plane)[2]
    first, last, any_lit = first_and_last(tf.reshape(plane > LIT, [-1, width]))
    first = tf.cast(tf.reshape(first, [-1, height]), tf.float32)
    span = tf.cast(tf.reshape(last, [-1, height]), tf.float32) - first + 1.0
    top, bottom = _lit_rows(images)
    widest = TOP_VIEW_MAX_WIDTH * (bottom - top + 1.0)  # a boot's shaft is no wider than a foot
    narrowed = tf.minimum(span * _uniform(seed, *TOP_VIEW_WIDTH, tf.shape(plane)[0])[:, None],
                          widest[:, None])
    start = (tf.cast(width, tf.float32) - narrowed) / 2.0  # the narrowed span, centred
    columns = tf.range(width, dtype=tf.float32)[None, None, :]
    offset = columns + 0.5 - start[..., None]
    source = first[..., None] + offset * (span / tf.maximum(narrowed, 1e-3))[..., None] - 0.5
    inside = ((offset >= 0.0) & (offset <= narrowed[..., None])
              & tf.reshape(any_lit, [-1, height])[..., None])
    return _sampled_along_rows(plane, source, inside)[..., None]


def refitted(images: tf.Tensor, size: int | None = None) -> tf.Tensor:
    """Each [N, H, W, 1] garment cropped to its lit box, its longest side fitted to H, centred.

    ``size``: the side of the fitted [N, size, size, 1] images instead of H.

    A recut garment keeps fewer rows of its frame; refitted, it is drawn as
    large as any other, not as a small, blurred patch once the normalization
    scales it up again.
    """
    planes = images[..., 0]
    return fitted_boxes(planes, mask_boxes(planes > LIT), size or images.shape[1])[..., tf.newaxis]


def shorts(images: tf.Tensor, seed) -> tf.Tensor:
    """Trousers [N, H, W, 1] as shorts: cut at the thigh, the legs a little flared, refitted."""
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 2)
    count = tf.shape(images)[0]
    return refitted(flared(cut(images, _uniform(seeds[0], *SHORTS_LENGTH, count)),
                           _uniform(seeds[1], *SHORTS_FLARE, count)))


def skirts(images: tf.Tensor, seed) -> tf.Tensor:
    """Trousers [N, H, W, 1] as skirts: the legs joined, cut mini to midi, flared, refitted."""
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 2)
    count = tf.shape(images)[0]
    return refitted(flared(cut(filled(images), _uniform(seeds[0], *SKIRT_LENGTH, count)),
                           _uniform(seeds[1], *SKIRT_FLARE, count)))


def _rotated_about(images: tf.Tensor, angles: tf.Tensor, pivot_x: tf.Tensor, pivot_y: tf.Tensor
                   ) -> tf.Tensor:
    """Each [N, H, W, 1] image turned by ``angles`` [N] (radians) about its pivot [N], bilinear.

    A positive angle swings what lies below the pivot to the left.
    """
    cos, sin = tf.cos(angles), tf.sin(angles)
    zeros = tf.zeros_like(angles)
    transforms = tf.stack([cos, sin, pivot_x - cos * pivot_x - sin * pivot_y,
                           -sin, cos, pivot_y + sin * pivot_x - cos * pivot_y, zeros, zeros],
                          axis=1)
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images, transforms=transforms, output_shape=tf.shape(images)[1:3],
        fill_value=0.0, interpolation="BILINEAR", fill_mode="CONSTANT")


def legs_apart(images: tf.Tensor, seed) -> tf.Tensor:
    """Trousers [N, H, W, 1] lying with their legs apart: each half swung out about the waist.

    The left and right halves of the lit box turn outwards by an angle drawn
    per garment from ``LEGS_APART_ANGLE`` (degrees) about the middle of the
    waist, as trousers lie when they are spread out to be photographed, then
    the garment is refitted to its frame.
    """
    count = tf.shape(images)[0]
    width = tf.shape(images)[2]
    top, _ = _lit_rows(images)
    left, right, _ = first_and_last(tf.reduce_any(images[..., 0] > LIT, axis=1))
    centre = tf.cast(left + right + 1, tf.float32) / 2.0
    angles = _uniform(seed, *LEGS_APART_ANGLE, count) * (math.pi / 180.0)
    columns = tf.range(width, dtype=tf.float32)[None, None, :, None] + 0.5
    left_half = images * tf.cast(columns < centre[:, None, None, None], images.dtype)
    right_half = images - left_half
    return refitted(tf.maximum(_rotated_about(left_half, angles, centre, top),
                               _rotated_about(right_half, -angles, centre, top)),
                    images.shape[1])


def sleeves_spread(images: tf.Tensor, seed) -> tf.Tensor:
    """Tops [N, H, W, 1] laid flat with their sleeves spread out, refitted to their frame.

    The outer ``SLEEVE_SHARE`` of the lit box on each side, below the
    shoulders, is taken for a sleeve and swung out and up about the shoulder
    by an angle drawn per garment from ``SLEEVES_SPREAD_ANGLE`` (degrees), as
    tops are laid out to be photographed; the body keeps its place. The
    garment is laid out on a canvas three frames wide, so no sleeve is cut off.
    """
    size = images.shape[1]
    canvas = tf.pad(images, [[0, 0], [size, size], [size, size], [0, 0]])
    count = tf.shape(canvas)[0]
    top, bottom = _lit_rows(canvas)
    left, right, _ = first_and_last(tf.reduce_any(canvas[..., 0] > LIT, axis=1))
    left, right = tf.cast(left, tf.float32), tf.cast(right, tf.float32) + 1.0
    sleeve = SLEEVE_SHARE * (right - left)
    shoulder = top + SHOULDER_DROP * (bottom - top)
    angles = _uniform(seed, *SLEEVES_SPREAD_ANGLE, count) * (math.pi / 180.0)
    columns = tf.range(3 * size, dtype=tf.float32)[None, None, :, None] + 0.5
    rows = tf.range(3 * size, dtype=tf.float32)[None, :, None, None] + 0.5
    below = rows > shoulder[:, None, None, None]
    on_left = tf.cast(below & (columns < (left + sleeve)[:, None, None, None]), canvas.dtype)
    on_right = tf.cast(below & (columns > (right - sleeve)[:, None, None, None]), canvas.dtype)
    body = canvas * (1.0 - on_left) * (1.0 - on_right)
    left_sleeve = _rotated_about(canvas * on_left, angles, left + sleeve, shoulder)
    right_sleeve = _rotated_about(canvas * on_right, -angles, right - sleeve, shoulder)
    return refitted(tf.maximum(body, tf.maximum(left_sleeve, right_sleeve)), size)


def spread_tops(images: tf.Tensor, is_top: tf.Tensor, seed, config: PhotoConfig) -> tf.Tensor:
    """Some tops of [N, H, W, 1] laid flat with their sleeves spread (``config.sleeves_spread``)."""
    if config.sleeves_spread <= 0.0:
        return images
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 2)
    spread = is_top & (_uniform(seeds[0], 0.0, 1.0, tf.shape(images)[0]) < config.sleeves_spread)
    return tf.where(spread[:, None, None, None], sleeves_spread(images, seeds[1]), images)


def recut_bottoms(images: tf.Tensor, is_bottom: tf.Tensor, seed, config: PhotoConfig
                  ) -> tf.Tensor:
    """Some bottoms of [N, H, W, 1] recut: shorts, skirts or trousers with their legs apart.

    Args:
      images: float32 [N, H, W, 1] light-on-black garments.
      is_bottom: bool [N], which of them are bottoms (trousers).
      seed: int [2] stateless seed.
      config: the renderer's ranges; ``shorts``, ``skirt`` and ``legs_apart``
        are probabilities per bottom, drawn as one choice (shorts, else skirt,
        else legs apart, else unchanged).

    Returns:
      The images, the chosen bottoms recut; the same images when all three are 0.
    """
    if config.shorts <= 0.0 and config.skirt <= 0.0 and config.legs_apart <= 0.0:
        return images
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 4)
    shape = _recut_shapes(_uniform(seeds[0], 0.0, 1.0, tf.shape(images)[0]), is_bottom, config)
    images = tf.where(tf.equal(shape, SHORTS)[:, None, None, None], shorts(images, seeds[1]),
                      images)
    images = tf.where(tf.equal(shape, SKIRT)[:, None, None, None], skirts(images, seeds[2]),
                      images)
    if config.legs_apart <= 0.0:
        return images
    return tf.where(tf.equal(shape, LEGS_APART)[:, None, None, None],
                    legs_apart(images, seeds[3]), images)


def _recut_shapes(choice: tf.Tensor, is_bottom: tf.Tensor, config: PhotoConfig) -> tf.Tensor:
    """int32 [N]: the shape each bottom is recut to, drawn by its uniform ``choice`` in [0, 1)."""
    bounds = tf.constant([config.shorts, config.shorts + config.skirt,
                          config.shorts + config.skirt + config.legs_apart])
    shape = tf.reduce_sum(tf.cast(choice[:, None] >= bounds[None, :], tf.int32), axis=1)
    return tf.where(is_bottom, shape, AS_IT_IS)


def recut_bottom(image: tf.Tensor, is_bottom: tf.Tensor, seed, config: PhotoConfig) -> tf.Tensor:
    """:func:`recut_bottoms` of one [H, W, 1] image, computing only the shape drawn for it."""
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 4)
    shape = _recut_shapes(_uniform(seeds[0], 0.0, 1.0, 1), is_bottom[tf.newaxis], config)[0]
    images = image[tf.newaxis]
    return tf.switch_case(shape, [lambda: shorts(images, seeds[1])[0],
                                  lambda: skirts(images, seeds[2])[0],
                                  lambda: legs_apart(images, seeds[3])[0],
                                  lambda: image])
