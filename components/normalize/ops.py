"""Generic image ops of the normalization, on batches: colour, borders, quantiles, boxes, filters.

Every function takes a batch ([N, H, W, ...]); one image is a batch of one.
Nothing here knows about garments or backgrounds.
"""

from __future__ import annotations

from typing import Tuple

import tensorflow as tf

LUMA = (0.2989, 0.5870, 0.1140)  # ITU-R 601 weights of R, G, B in the gray value

Boxes = Tuple[tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]  # (top, left, height, width), each [N]


def to_rgb(image: tf.Tensor) -> tf.Tensor:
    """[..., C] (C = 1, 3 or 4; uint8 or float) as float [..., 3] in [0, 1]."""
    image = tf.image.convert_image_dtype(image, tf.float32)
    channels = image.shape[-1]
    multiples = [1] * (image.shape.rank - 1) + [3]
    if channels is not None:
        return image[..., :3] if channels >= 3 else tf.tile(image[..., :1], multiples)
    return tf.cond(tf.shape(image)[-1] >= 3, lambda: image[..., :3],
                   lambda: tf.tile(image[..., :1], multiples))


def to_gray(image: tf.Tensor) -> tf.Tensor:
    """Converts [..., C] (C = 1, 3 or 4; uint8 or float) to float [...] in [0, 1]."""
    if image.shape[-1] == 1:
        return tf.image.convert_image_dtype(image, tf.float32)[..., 0]
    return tf.reduce_sum(to_rgb(image) * LUMA, axis=-1)


def batch_gray(images: tf.Tensor) -> tf.Tensor:
    """:func:`to_gray` of each image of [N, H, W, C], also when C is unknown until run time."""
    if images.shape[-1] is None:
        return tf.map_fn(to_gray, images, fn_output_signature=tf.float32)
    return to_gray(images)


def shrink(rgb: tf.Tensor, side: int) -> tf.Tensor:
    """[N, H, W, 3] images with their longest side at most ``side`` (area resize, aspect kept)."""
    shape = tf.shape(rgb)[1:3]
    longest = tf.reduce_max(shape)
    scale = side / tf.cast(longest, tf.float32)
    target = tf.maximum(1, tf.cast(tf.round(tf.cast(shape, tf.float32) * scale), tf.int32))
    return tf.cond(longest > side,
                   lambda: tf.image.resize(rgb, target, method="area", antialias=True),
                   lambda: rgb)


def batch_quantile(values: tf.Tensor, q: float) -> tf.Tensor:
    """The ``q`` quantile of each row of [N, K] values (the sorted value at floor((K-1) q))."""
    ordered = tf.sort(values, axis=-1)
    index = tf.cast(tf.cast(tf.shape(values)[-1] - 1, tf.float32) * q, tf.int32)
    return ordered[:, index]


def medians(lines: tf.Tensor) -> tf.Tensor:
    """The median along axis 1 of [N, K, ...] values: [N, ...]."""
    ordered = tf.sort(lines, axis=1)
    return ordered[:, (tf.shape(lines)[1] - 1) // 2]


def border(images: tf.Tensor) -> tf.Tensor:
    """The outermost rows and columns of each [H, W] image of [N, H, W]: [N, 2H + 2W]."""
    return tf.concat([images[:, 0, :], images[:, -1, :], images[:, :, 0], images[:, :, -1]],
                     axis=1)


def upper_border(images: tf.Tensor) -> tf.Tensor:
    """The top row and the upper halves of the side columns of [N, H, W, ...], [N, K, ...]."""
    half = tf.maximum(tf.shape(images)[1] // 2, 1)
    return tf.concat([images[:, 0], images[:, :half, 0], images[:, :half, -1]], axis=1)


def corners(images: tf.Tensor, share: float) -> tf.Tensor:
    """[N, K, ...]: the four corner squares of [N, H, W, ...], ``share`` of the short side each."""
    side = tf.maximum(tf.cast(tf.cast(tf.minimum(tf.shape(images)[1], tf.shape(images)[2]),
                                      tf.float32) * share, tf.int32), 1)
    squares = [images[:, :side, :side], images[:, :side, -side:],
               images[:, -side:, :side], images[:, -side:, -side:]]
    count = side * side
    return tf.concat([tf.reshape(square, tf.concat([tf.shape(images)[:1], [count],
                                                    tf.shape(images)[3:]], 0))
                      for square in squares], axis=1)


def ring(images: tf.Tensor) -> tf.Tensor:
    """The border of [N, H, W] images as one closed path each, clockwise from the top left."""
    return tf.concat([images[:, 0, :], images[:, 1:, -1], images[:, -1, -2::-1],
                      images[:, -2:0:-1, 0]], axis=1)


def first_and_last(mask: tf.Tensor):
    """Index of the first and of the last True of each row of [N, K]; (0, K - 1) when none."""
    length = tf.shape(mask)[1]
    any_true = tf.reduce_any(mask, axis=1)
    first = tf.argmax(tf.cast(mask, tf.int32), axis=1, output_type=tf.int32)
    last = length - 1 - tf.argmax(tf.cast(mask[:, ::-1], tf.int32), axis=1,
                                  output_type=tf.int32)
    return tf.where(any_true, first, 0), tf.where(any_true, last, length - 1), any_true


def mask_boxes(mask: tf.Tensor) -> Boxes:
    """(top, left, height, width), each [N], of the True pixels of [N, H, W] (all if none)."""
    top, bottom, any_rows = first_and_last(tf.reduce_any(mask, axis=2))
    left, right, any_cols = first_and_last(tf.reduce_any(mask, axis=1))
    empty = tf.logical_not(tf.logical_and(any_rows, any_cols))
    height, width = tf.shape(mask)[1], tf.shape(mask)[2]
    top, left = tf.where(empty, 0, top), tf.where(empty, 0, left)
    bottom = tf.where(empty, height - 1, bottom)
    right = tf.where(empty, width - 1, right)
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
    # tf.pad, not tf.image.pad_to_bounding_box: its runtime asserts are stateful ops, and a graph
    # function holding one is never pruned: Transform's analysis, which needs only the labels,
    # then read and decoded every image (tft.get_analyze_input_columns named the image).
    padded = tf.pad(resized[..., 0], [[top, size - height - top], [left, size - width - left]])
    return tf.ensure_shape(padded, [size, size])


def fitted_boxes(images: tf.Tensor, boxes: Boxes, size: int) -> tf.Tensor:
    """Each [H, W] image of [N, H, W] cropped to its box and :func:`fit_and_centre`\\ d."""
    def fit(args):
        image, top, left, height, width = args
        cropped = tf.slice(image, tf.stack([top, left]), tf.stack([height, width]))
        return fit_and_centre(cropped, size)

    return tf.map_fn(fit, (images, *boxes),
                     fn_output_signature=tf.TensorSpec([size, size], tf.float32))


def as_channels(planes: tf.Tensor) -> tf.Tensor:
    """[N, H, W] as one [1, H, W, N] image: pooling is fast over channels, slow over a batch."""
    return tf.transpose(planes, [1, 2, 0])[tf.newaxis]


def from_channels(image: tf.Tensor) -> tf.Tensor:
    """The [N, H, W] planes of a [1, H, W, N] image (:func:`as_channels` undone)."""
    return tf.transpose(image[0], [2, 0, 1])


def max_filter(planes: tf.Tensor, window: int) -> tf.Tensor:
    """The largest value of each ``window`` square around each pixel of [N, H, W] planes."""
    return from_channels(tf.nn.max_pool2d(as_channels(planes), window, 1, "SAME"))


def grown(mask: tf.Tensor, pixels: int = 1) -> tf.Tensor:
    """[N, H, W] bool ``mask`` grown by ``pixels`` in every direction."""
    return max_filter(tf.cast(mask, tf.float32), 2 * pixels + 1) > 0.0


def share(mask: tf.Tensor) -> tf.Tensor:
    """[N]: the share of each [N, H, W] mask that is set."""
    return tf.reduce_mean(tf.cast(mask, tf.float32), axis=[1, 2])


def histograms(values: tf.Tensor, high: tf.Tensor, bins: int,
               weights: tf.Tensor | None = None) -> tf.Tensor:
    """float [N, bins] counts of [N, ...] ``values`` over [0, high[n]] per row.

    Values above ``high`` fall in the last bin; ``weights`` (as ``values``)
    count each value that much. One segment sum for the whole batch.
    """
    rows = tf.shape(values)[0]
    flat = tf.reshape(values, [rows, -1])
    index = tf.clip_by_value(tf.cast(tf.floor(flat / high[:, None] * bins), tf.int32),
                             0, bins - 1)
    segments = index + bins * tf.range(rows)[:, None]
    counted = tf.ones_like(flat) if weights is None else tf.reshape(
        tf.cast(weights, tf.float32), [rows, -1])
    counts = tf.math.unsorted_segment_sum(counted, segments, rows * bins)
    return tf.reshape(counts, [rows, bins])


def histogram_quantile(counts: tf.Tensor, high: tf.Tensor, q) -> tf.Tensor:
    """The ``q`` quantile of each row of [N, bins] histograms over [0, high[n]]: its bin's top.

    Photos use histograms, not sorts: sorting every pixel of every training
    photo cost more than the rest of the normalization.
    """
    bins = counts.shape[1]
    below = tf.cumsum(counts, axis=1) / tf.maximum(tf.reduce_sum(counts, axis=1, keepdims=True),
                                                   1.0)
    index = tf.minimum(tf.reduce_sum(tf.cast(below < q, tf.int32), axis=1), bins - 1)
    return tf.cast(index + 1, tf.float32) * high / bins


def otsu_threshold(counts: tf.Tensor, high: tf.Tensor) -> tf.Tensor:
    """Otsu's threshold of each row of [N, bins] histograms over [0, high[n]]: [N].

    The cut that best separates each histogram into two classes.
    """
    bins = tf.cast(tf.shape(counts)[1], tf.float32)
    shares = counts / tf.maximum(tf.reduce_sum(counts, axis=1, keepdims=True), 1.0)
    centres = (tf.range(bins) + 0.5)[None, :] * high[:, None] / bins
    below = tf.cumsum(shares, axis=1)
    mean_below = tf.cumsum(shares * centres, axis=1)
    between = tf.square(mean_below[:, -1:] * below - mean_below) / tf.maximum(
        below * (1.0 - below), 1e-6)
    best = tf.argmax(between[:, :-1], axis=1, output_type=tf.int32)
    return tf.cast(best + 1, tf.float32) * high / bins  # the cut's upper edge
