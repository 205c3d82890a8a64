"""The direct path: pictures already light on black (Fashion-MNIST's form), batched.

Close to the identity on Fashion-MNIST:

1. grayscale, float [0, 1];
2. the background plane (fitted to the border) and its spread are subtracted;
3. crop to the bounding box of the pixels clearly above the background;
4. the brightest pixel becomes white (Fashion-MNIST images all peak at
   250-255);
5. keep the aspect ratio, fit the longest side to ``size``, centre on black;
   a pure shift when the object's longest side is already ``size`` (94% of
   Fashion-MNIST images; a resize to the same size is the identity).

Every function takes a batch of equal-sized images; one image is a batch of
one, so an image gets the same pixels whatever else is in its batch.
"""

from __future__ import annotations

from typing import Tuple

import tensorflow as tf

from imagepipe.components.normalize.ops import (Boxes, batch_gray, batch_quantile, border,
                                                fitted_boxes, mask_boxes)
from imagepipe.components.normalize.parameters import DEFAULT, Parameters


def dark_bordered(gray: tf.Tensor, params: Parameters = DEFAULT) -> tf.Tensor:
    """bool [N]: which [H, W] images of [N, H, W] in [0, 1] have a mostly black border.

    Half the border at most may be object (a Fashion-MNIST garment fitted to
    the square touches two opposite sides); photos, even on dark floors, have
    texture and noise there.
    """
    return batch_quantile(border(gray), 0.5) <= params.dark_border


def light_on_black(images: tf.Tensor, params: Parameters = DEFAULT) -> tf.Tensor:
    """bool [N]: which images of [N, H, W, C] take the direct path (a mostly black border)."""
    return dark_bordered(batch_gray(images), params)


def dark_background(gray: tf.Tensor) -> tf.Tensor:
    """Removes the background of [N, H, W] images in [0, 1] that are light on a dark border.

    The background is a plane fitted to the border: a low quantile of each of
    the four border lines (robust to an object that touches the border) gives
    the vertical and horizontal slopes (uneven lighting), the median of the
    whole border the level. Its residual spread on the border (3 median
    absolute deviations: texture, noise) is removed as well, so that only the
    object stays above 0.

    Returns:
      [N, H, W] in [0, 1] with the background at 0.
    """
    def median(values):
        return batch_quantile(values, 0.5)[:, None, None]

    level = median(border(gray))
    vertical = (batch_quantile(gray[:, -1, :], 0.1) - batch_quantile(gray[:, 0, :], 0.1))
    horizontal = (batch_quantile(gray[:, :, -1], 0.1) - batch_quantile(gray[:, :, 0], 0.1))
    ys = tf.linspace(-0.5, 0.5, tf.shape(gray)[1])[:, None]
    xs = tf.linspace(-0.5, 0.5, tf.shape(gray)[2])[None, :]
    field = level + vertical[:, None, None] * ys + horizontal[:, None, None] * xs
    residual = gray - field
    spread = 3.0 * median(tf.abs(border(residual)))
    scale = tf.maximum(1.0 - median(border(gray)) - spread, 1e-3)
    return tf.clip_by_value((residual - spread) / scale, 0.0, 1.0)


def shift_into_place(images: tf.Tensor, boxes: Boxes, size: int) -> tf.Tensor:
    """Each image's box (top, left, height, width) placed as ``fit_and_centre`` places it.

    Only for boxes whose longest side is ``size``: their resize is the identity,
    so centring is a shift of the box onto a black [size, size] square.
    """
    top, left, height, width = boxes
    out_top = (size - height + 1) // 2
    out_left = (size - width + 1) // 2
    ys = tf.range(size)[None, :, None] - out_top[:, None, None]  # row inside the box
    xs = tf.range(size)[None, None, :] - out_left[:, None, None]
    inside = ((ys >= 0) & (ys < height[:, None, None]) & (xs >= 0)
              & (xs < width[:, None, None]))
    grid = tf.shape(inside)
    rows = tf.broadcast_to(tf.clip_by_value(ys + top[:, None, None], 0, tf.shape(images)[1] - 1),
                           grid)
    cols = tf.broadcast_to(tf.clip_by_value(xs + left[:, None, None], 0,
                                            tf.shape(images)[2] - 1), grid)
    batch = tf.broadcast_to(tf.range(tf.shape(images)[0])[:, None, None], grid)
    picked = tf.gather_nd(images, tf.stack([batch, rows, cols], axis=-1))
    return tf.where(inside, picked, tf.zeros_like(picked))


def _scaled_objects(grays: tf.Tensor, params: Parameters) -> Tuple[tf.Tensor, Boxes]:
    """[N, H, W] gray images freed of background, brightest pixel white, and their object boxes."""
    gray = dark_background(grays)
    peak = tf.maximum(tf.reduce_max(gray, axis=[1, 2]), params.object_threshold)
    return gray / peak[:, None, None], mask_boxes(gray > params.object_threshold)


def _resized(grays: tf.Tensor, size: int, params: Parameters) -> tf.Tensor:
    """[N, size, size]: [N, H, W] gray images freed of background, cropped, scaled, fitted."""
    scaled, boxes = _scaled_objects(grays, params)
    return fitted_boxes(scaled, boxes, size)


def light_on_black_batch(images: tf.Tensor, size: int = 28,
                         params: Parameters = DEFAULT) -> tf.Tensor:
    """Fashion-MNIST-like images of equal-sized images that are all :func:`light_on_black`.

    The direct path only, without the photo path's graph: Transform decodes
    Fashion-MNIST with it, and its graph, saved in every transform output and
    served model, loads and traces in a fraction of the time.

    Args:
      images: uint8 or float [N, H, W, C], C in {1, 3, 4}, light objects on black.
      size: side of the output squares.
      params: the tuning parameters.

    Returns:
      float32 [N, size, size, 1].
    """
    grays = batch_gray(images)
    scaled, boxes = _scaled_objects(grays, params)
    fast = tf.clip_by_value(shift_into_place(scaled, boxes, size), 0.0, 1.0)
    # Boxes whose longest side is not ``size`` are resized: one by one, each image a batch of
    # one from its gray values on, as :func:`~.picture.fashion_mnist_like` computes it (in a
    # graph, Grappler sums a batch of one's background plane in another order than a batch's).
    _, _, height, width = boxes
    resized = tf.where(tf.maximum(height, width) != size)[:, 0]
    slow = tf.clip_by_value(tf.map_fn(
        lambda one: _resized(one[tf.newaxis], size, params)[0], tf.gather(grays, resized),
        fn_output_signature=tf.TensorSpec([size, size], tf.float32)), 0.0, 1.0)
    result = tf.tensor_scatter_nd_update(fast, resized[:, None], slow)
    return tf.ensure_shape(result[..., tf.newaxis], [None, size, size, 1])
