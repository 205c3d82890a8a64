"""Geometric and colour augmentation of training images, for tf.data and inside models.

* :func:`augment_image` makes a modified copy of one float image in [0, 1]:
  horizontal flip, rotation up to ±0.2 of a turn (the report's
  ``RandomRotation(0.2)``), small shifts and zoom, brightness and contrast.
  It is stateless: the same seed gives the same copy, so a training stream
  is reproducible while each epoch draws fresh seeds.
* :func:`augmentation_layers` is the report's in-model augmentation for
  photos (``RandomFlip('horizontal')`` + ``RandomRotation(0.2)``), active in
  training only.

The training stream's other augmentation, rendering Fashion-MNIST-like images
as photos, is :mod:`imagepipe.components.photo_render`.
"""

from __future__ import annotations

import dataclasses
import math

import tensorflow as tf
import tf_keras as keras


@dataclasses.dataclass(frozen=True)
class AugmentConfig:
    """Ranges of the random modifications.

    Attributes:
      flip: flip left-right with probability 1/2.
      max_rotation: largest rotation, as a fraction of a full turn.
      max_shift: largest shift, as a fraction of the image size.
      max_zoom: largest zoom in or out, as a fraction (0.1: 90%..110%).
      max_brightness: largest brightness change, added to [0, 1] pixels.
      contrast_range: (lower, upper) contrast factor.
    """

    flip: bool = True
    max_rotation: float = 0.2
    max_shift: float = 0.1
    max_zoom: float = 0.1
    max_brightness: float = 0.1
    contrast_range: tuple = (0.8, 1.2)


def _affine_matrix(seed: tf.Tensor, height: tf.Tensor, width: tf.Tensor,
                   config: AugmentConfig) -> tf.Tensor:
    """Returns the 8 projective-transform parameters of a random rotation/shift/zoom.

    The transform maps output pixel coordinates to input coordinates, rotating
    and zooming around the image centre.
    """
    seeds = tf.random.experimental.stateless_split(seed, 4)
    angle = tf.random.stateless_uniform([], seeds[0], -config.max_rotation,
                                        config.max_rotation) * 2.0 * math.pi
    zoom = tf.random.stateless_uniform([], seeds[1], 1.0 - config.max_zoom, 1.0 + config.max_zoom)
    h, w = tf.cast(height, tf.float32), tf.cast(width, tf.float32)
    shift_y = tf.random.stateless_uniform([], seeds[2], -config.max_shift, config.max_shift) * h
    shift_x = tf.random.stateless_uniform([], seeds[3], -config.max_shift, config.max_shift) * w
    cos, sin = tf.cos(angle) / zoom, tf.sin(angle) / zoom
    centre_x, centre_y = (w - 1.0) / 2.0, (h - 1.0) / 2.0
    offset_x = centre_x - cos * centre_x + sin * centre_y - shift_x
    offset_y = centre_y - sin * centre_x - cos * centre_y - shift_y
    return tf.stack([cos, -sin, offset_x, sin, cos, offset_y, 0.0, 0.0])


def augment_image(image: tf.Tensor, seed: tf.Tensor,
                  config: AugmentConfig = AugmentConfig()) -> tf.Tensor:
    """Returns a randomly modified copy of ``image``; the same seed, the same copy.

    Args:
      image: float32 [H, W, C] in [0, 1].
      seed: int32/int64 [2] stateless seed.
      config: the ranges of the modifications.

    Returns:
      float32 [H, W, C] in [0, 1], same shape as ``image``; empty areas are black.
    """
    seed = tf.cast(seed, tf.int64)
    seeds = tf.random.experimental.stateless_split(seed, 4)
    if config.flip:
        image = tf.image.stateless_random_flip_left_right(image, seeds[0])
    shape = tf.shape(image)
    transform = _affine_matrix(seeds[1], shape[0], shape[1], config)
    image = tf.raw_ops.ImageProjectiveTransformV3(
        images=image[tf.newaxis], transforms=transform[tf.newaxis],
        output_shape=shape[:2], fill_value=0.0, interpolation="BILINEAR",
        fill_mode="CONSTANT")[0]
    if config.max_brightness:
        image = tf.image.stateless_random_brightness(image, config.max_brightness, seeds[2])
    low, high = config.contrast_range
    if low != 1.0 or high != 1.0:
        image = tf.image.stateless_random_contrast(image, low, high, seeds[3])
    return tf.clip_by_value(image, 0.0, 1.0)


def augmentation_layers(rotation: float = 0.2, seed: int | None = None) -> keras.Sequential:
    """The report's in-model augmentation: RandomFlip('horizontal') + RandomRotation(0.2).

    Keras preprocessing layers are active only when the model is called with
    ``training=True``, so served models see the images unchanged.
    """
    return keras.Sequential([
        keras.layers.RandomFlip("horizontal", seed=seed),
        keras.layers.RandomRotation(rotation, seed=seed),
    ], name="augmentation")
