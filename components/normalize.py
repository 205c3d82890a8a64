"""Normalization of any picture into a Fashion-MNIST-like 28x28 image.

Fashion-MNIST images are grayscale, a light garment on black, trimmed to the
garment and centred with the longest side fitted to 28 pixels. Photos from
web shops and phones are large, colourful, on light or busy backgrounds and
off-centre. :func:`fashion_mnist_like` brings both to the same form, in
TensorFlow ops so that it runs inside Transform and therefore inside every
served model:

1. grayscale, float [0, 1];
2. dark background: the background level is judged from the image's border
   (its median); a light border inverts the image;
3. the background level is subtracted and the contrast stretched;
4. crop to the bounding box of the pixels clearly above the background;
5. the brightest pixel becomes white (Fashion-MNIST images all peak at
   250-255), so dim or low-contrast photos keep their details;
6. keep the aspect ratio, fit the longest side to ``size``, centre on black.

On Fashion-MNIST images (black border, garment already fitted) the result is
close to the identity.

:func:`fashion_mnist_like_batch` computes the same for a batch of equal-sized
images with batched ops: steps 1-5 are the same arithmetic on a batch axis, and
step 6 is a pure shift when the object's longest side is already ``size`` (94%
of Fashion-MNIST images; a resize to the same size is the identity), so the
results are :func:`fashion_mnist_like`'s (eagerly bit for bit; in a graph,
where TensorFlow fuses the arithmetic differently, within 2e-4); the other
images go through :func:`fashion_mnist_like` one by one. Transform, the
Evaluator and the served models run it on every batch of 28x28 grayscale images,
about nine times faster than image by image, and an image gets the same pixels
whatever else is in its batch.
"""

from __future__ import annotations

import tensorflow as tf

# A pixel belongs to the object when it is this much above the background.
OBJECT_THRESHOLD = 0.05
# Borders brighter than this are light backgrounds.
LIGHT_BORDER = 0.5


def _border_pixels(image: tf.Tensor) -> tf.Tensor:
    """Returns the pixels of the outermost rows and columns of a [H, W] image."""
    return tf.concat([image[0, :], image[-1, :], image[:, 0], image[:, -1]], axis=0)


def _quantile(values: tf.Tensor, q: float) -> tf.Tensor:
    ordered = tf.sort(tf.reshape(values, [-1]))
    index = tf.cast(tf.cast(tf.size(ordered) - 1, tf.float32) * q, tf.int32)
    return ordered[index]


def _median(values: tf.Tensor) -> tf.Tensor:
    return _quantile(values, 0.5)


def background_field(gray: tf.Tensor) -> tf.Tensor:
    """Estimates the background of a [H, W] image as a plane fitted to its border.

    A low quantile of each of the four border lines (robust to an object that
    touches the border) gives the vertical and horizontal slopes (uneven
    lighting); the median of the whole border gives the level.
    """
    level = _median(_border_pixels(gray))
    vertical = _quantile(gray[-1, :], 0.1) - _quantile(gray[0, :], 0.1)
    horizontal = _quantile(gray[:, -1], 0.1) - _quantile(gray[:, 0], 0.1)
    ys = tf.linspace(-0.5, 0.5, tf.shape(gray)[0])[:, None]
    xs = tf.linspace(-0.5, 0.5, tf.shape(gray)[1])[None, :]
    return level + vertical * ys + horizontal * xs


def dark_background(gray: tf.Tensor) -> tf.Tensor:
    """Inverts a [H, W] image in [0, 1] with a light border, removes the background.

    The background is a plane fitted to the border (level and lighting
    slopes); its residual spread on the border (3 median absolute deviations:
    texture, noise) is removed as well, so that only the object stays above 0.

    Returns:
      [H, W] in [0, 1] with the background at 0.
    """
    inverted = _median(_border_pixels(gray)) > LIGHT_BORDER
    gray = tf.where(inverted, 1.0 - gray, gray)
    residual = gray - background_field(gray)
    spread = 3.0 * _median(tf.abs(_border_pixels(residual)))
    scale = tf.maximum(1.0 - _median(_border_pixels(gray)) - spread, 1e-3)
    return tf.clip_by_value((residual - spread) / scale, 0.0, 1.0)


def _object_box(image: tf.Tensor):
    """Returns (top, left, height, width) of the pixels above OBJECT_THRESHOLD (all if none)."""
    mask = image > OBJECT_THRESHOLD
    rows = tf.where(tf.reduce_any(mask, axis=1))[:, 0]
    cols = tf.where(tf.reduce_any(mask, axis=0))[:, 0]
    shape = tf.shape(image, out_type=tf.int64)
    empty = tf.logical_or(tf.equal(tf.size(rows), 0), tf.equal(tf.size(cols), 0))
    top = tf.where(empty, tf.constant(0, tf.int64), tf.reduce_min(rows))
    left = tf.where(empty, tf.constant(0, tf.int64), tf.reduce_min(cols))
    bottom = tf.where(empty, shape[0] - 1, tf.reduce_max(rows))
    right = tf.where(empty, shape[1] - 1, tf.reduce_max(cols))
    return top, left, bottom - top + 1, right - left + 1


def fit_and_centre(image: tf.Tensor, size: int) -> tf.Tensor:
    """Resizes a [H, W] image so its longest side is ``size``, centred on a black square."""
    shape = tf.cast(tf.shape(image), tf.float32)
    scale = size / tf.maximum(shape[0], shape[1])
    height = tf.clip_by_value(tf.cast(tf.round(shape[0] * scale), tf.int32), 1, size)
    width = tf.clip_by_value(tf.cast(tf.round(shape[1] * scale), tf.int32), 1, size)
    resized = tf.image.resize(image[..., tf.newaxis], tf.stack([height, width]),
                              method="area", antialias=True)
    # Fashion-MNIST puts the odd pixel of margin before the object, not after.
    top, left = (size - height + 1) // 2, (size - width + 1) // 2
    return tf.image.pad_to_bounding_box(resized, top, left, size, size)[..., 0]


_LUMA = (0.2989, 0.5870, 0.1140)


def to_gray(image: tf.Tensor) -> tf.Tensor:
    """Converts [H, W, C] (C = 1, 3 or 4; uint8 or float) to float [H, W] in [0, 1]."""
    image = tf.image.convert_image_dtype(image, tf.float32)
    channels = image.shape[-1]
    if channels == 1:
        return image[..., 0]
    if channels is not None:
        return tf.reduce_sum(image[..., :3] * _LUMA, axis=-1)
    rgb = tf.cond(tf.shape(image)[-1] >= 3, lambda: image[..., :3],
                  lambda: tf.tile(image[..., :1], [1, 1, 3]))
    return tf.reduce_sum(rgb * _LUMA, axis=-1)


def fashion_mnist_like(image: tf.Tensor, size: int = 28) -> tf.Tensor:
    """Normalizes one decoded image to a Fashion-MNIST-like [size, size, 1] float image.

    Args:
      image: uint8 or float [H, W, C] with C in {1, 3, 4}, any size.
      size: side of the output square.

    Returns:
      float32 [size, size, 1] in [0, 1]: light object centred on black.
    """
    image = dark_background(to_gray(image))
    top, left, height, width = _object_box(image)
    cropped = tf.slice(image, tf.stack([top, left]), tf.stack([height, width]))
    cropped = cropped / tf.maximum(tf.reduce_max(cropped), OBJECT_THRESHOLD)
    normalized = fit_and_centre(cropped, size)
    return tf.ensure_shape(tf.clip_by_value(normalized, 0.0, 1.0)[..., tf.newaxis],
                           [size, size, 1])


# ---------------------------------------------------------------- the batched path


def _batch_quantile(values: tf.Tensor, q: float) -> tf.Tensor:
    """``_quantile`` of each row of [N, K] values."""
    ordered = tf.sort(values, axis=-1)
    index = tf.cast(tf.cast(tf.shape(values)[-1] - 1, tf.float32) * q, tf.int32)
    return ordered[:, index]


def _batch_border(images: tf.Tensor) -> tf.Tensor:
    """``_border_pixels`` of each [H, W] image of [N, H, W], in the same order."""
    return tf.concat([images[:, 0, :], images[:, -1, :], images[:, :, 0], images[:, :, -1]],
                     axis=1)


def _batch_dark_background(gray: tf.Tensor) -> tf.Tensor:
    """``dark_background`` of each image of [N, H, W]: the same operations, batched."""
    def median(values):
        return _batch_quantile(values, 0.5)[:, None, None]

    inverted = median(_batch_border(gray)) > LIGHT_BORDER
    gray = tf.where(inverted, 1.0 - gray, gray)
    level = median(_batch_border(gray))
    vertical = (_batch_quantile(gray[:, -1, :], 0.1) - _batch_quantile(gray[:, 0, :], 0.1))
    horizontal = (_batch_quantile(gray[:, :, -1], 0.1) - _batch_quantile(gray[:, :, 0], 0.1))
    ys = tf.linspace(-0.5, 0.5, tf.shape(gray)[1])[:, None]
    xs = tf.linspace(-0.5, 0.5, tf.shape(gray)[2])[None, :]
    field = level + vertical[:, None, None] * ys + horizontal[:, None, None] * xs
    residual = gray - field
    spread = 3.0 * median(tf.abs(_batch_border(residual)))
    scale = tf.maximum(1.0 - median(_batch_border(gray)) - spread, 1e-3)
    return tf.clip_by_value((residual - spread) / scale, 0.0, 1.0)


def _first_and_last(mask: tf.Tensor):
    """Index of the first and of the last True of each row of [N, K]; (0, K - 1) when none."""
    length = tf.shape(mask)[1]
    any_true = tf.reduce_any(mask, axis=1)
    first = tf.argmax(tf.cast(mask, tf.int32), axis=1, output_type=tf.int32)
    last = length - 1 - tf.argmax(tf.cast(mask[:, ::-1], tf.int32), axis=1,
                                  output_type=tf.int32)
    return tf.where(any_true, first, 0), tf.where(any_true, last, length - 1), any_true


def _batch_object_box(images: tf.Tensor):
    """``_object_box`` of each image of [N, H, W] (the whole image when a box is empty)."""
    mask = images > OBJECT_THRESHOLD
    top, bottom, any_rows = _first_and_last(tf.reduce_any(mask, axis=2))
    left, right, any_cols = _first_and_last(tf.reduce_any(mask, axis=1))
    empty = tf.logical_not(tf.logical_and(any_rows, any_cols))
    height, width = tf.shape(images)[1], tf.shape(images)[2]
    top, left = tf.where(empty, 0, top), tf.where(empty, 0, left)
    bottom = tf.where(empty, height - 1, bottom)
    right = tf.where(empty, width - 1, right)
    return top, left, bottom - top + 1, right - left + 1


def _shift_into_place(images: tf.Tensor, top, left, height, width, size: int) -> tf.Tensor:
    """Each image's box (top, left, height, width) placed as ``fit_and_centre`` places it.

    Only for boxes whose longest side is ``size``: their resize is the identity,
    so centring is a shift of the box onto a black [size, size] square.
    """
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


def fashion_mnist_like_batch(images: tf.Tensor, size: int = 28) -> tf.Tensor:
    """:func:`fashion_mnist_like` of every image of an equal-sized batch, batched.

    Args:
      images: uint8 or float [N, H, W, C], C in {1, 3, 4}, any equal size.
      size: side of the output squares.

    Returns:
      float32 [N, size, size, 1], ``fashion_mnist_like`` of each image.
    """
    gray = _batch_dark_background(_batch_gray(images))
    top, left, height, width = _batch_object_box(gray)
    peak = tf.maximum(tf.reduce_max(gray, axis=[1, 2]), OBJECT_THRESHOLD)
    scaled = gray / peak[:, None, None]
    fast = tf.clip_by_value(_shift_into_place(scaled, top, left, height, width, size), 0.0, 1.0)
    # Boxes whose longest side is not ``size`` are resized: those go one by one.
    resized = tf.where(tf.maximum(height, width) != size)[:, 0]
    slow = tf.map_fn(lambda image: fashion_mnist_like(image, size)[..., 0],
                     tf.gather(images, resized),
                     fn_output_signature=tf.TensorSpec([size, size], tf.float32))
    result = tf.tensor_scatter_nd_update(fast, resized[:, None], slow)
    return tf.ensure_shape(result[..., tf.newaxis], [None, size, size, 1])


def _batch_gray(images: tf.Tensor) -> tf.Tensor:
    """``to_gray`` of each image of [N, H, W, C]."""
    return tf.map_fn(to_gray, images, fn_output_signature=tf.float32) \
        if images.shape[-1] is None else tf.image.convert_image_dtype(
            images, tf.float32)[..., 0] if images.shape[-1] == 1 else tf.reduce_sum(
            tf.image.convert_image_dtype(images, tf.float32)[..., :3] * _LUMA, axis=-1)
