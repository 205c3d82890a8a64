"""Any picture to a Fashion-MNIST-like image: each image to the direct path or the photo path.

Images whose border is mostly black (Fashion-MNIST's own form) take the direct
path (:mod:`.direct`), close to the identity on Fashion-MNIST; any other
picture is a photo and goes through :mod:`.photo`, which finds its object
first. Both paths are batched; one image is a batch of one.
"""

from __future__ import annotations

import tensorflow as tf

from imagepipe.components.normalize.direct import light_on_black, light_on_black_batch
from imagepipe.components.normalize.parameters import DEFAULT, Parameters
from imagepipe.components.normalize.photo import photo_object, photo_objects


def fashion_mnist_like(image: tf.Tensor, size: int = 28,
                       params: Parameters = DEFAULT) -> tf.Tensor:
    """Normalizes one decoded image to a Fashion-MNIST-like [size, size, 1] float image.

    Images with a black border (Fashion-MNIST's own) keep their pixels up to a
    crop and fit; any other picture is a photo and goes through
    :func:`~.photo.photo_object`, which finds the object first.

    Args:
      image: uint8 or float [H, W, C] with C in {1, 3, 4}, any size.
      size: side of the output square.
      params: the tuning parameters.

    Returns:
      float32 [size, size, 1] in [0, 1]: light object centred on black.
    """
    images = tf.convert_to_tensor(image)[tf.newaxis]
    normalized = tf.cond(light_on_black(images, params)[0],
                         lambda: light_on_black_batch(images, size, params)[0, ..., 0],
                         lambda: photo_object(images[0], size, params))
    return tf.ensure_shape(tf.clip_by_value(normalized, 0.0, 1.0)[..., tf.newaxis],
                           [size, size, 1])


def fashion_mnist_like_batch(images: tf.Tensor, size: int = 28,
                             params: Parameters = DEFAULT) -> tf.Tensor:
    """:func:`fashion_mnist_like` of every image of an equal-sized batch, batched.

    Light-on-black images take :func:`~.direct.light_on_black_batch`, photos
    :func:`~.photo.photo_objects`, each group as one batch.

    Args:
      images: uint8 or float [N, H, W, C], C in {1, 3, 4}, any equal size.
      size: side of the output squares.
      params: the tuning parameters.

    Returns:
      float32 [N, size, size, 1], ``fashion_mnist_like`` of each image.
    """
    dark = light_on_black(images, params)
    photos, others = tf.where(tf.logical_not(dark))[:, 0], tf.where(dark)[:, 0]
    result = tf.zeros([tf.shape(images)[0], size, size])
    direct = light_on_black_batch(tf.gather(images, others), size, params)[..., 0]
    result = tf.tensor_scatter_nd_update(result, others[:, None], direct)
    found = tf.cond(tf.size(photos) > 0,
                    lambda: tf.clip_by_value(photo_objects(tf.gather(images, photos), size,
                                                           params), 0.0, 1.0),
                    lambda: tf.zeros([0, size, size]))
    result = tf.tensor_scatter_nd_update(result, photos[:, None], found)
    return tf.ensure_shape(result[..., tf.newaxis], [None, size, size, 1])
