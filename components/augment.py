"""Image augmentation: the one place that defines it, for tf.data and for models.

* :func:`augment_image` makes a modified copy of one float image in [0, 1]:
  horizontal flip, rotation up to ±0.2 of a turn (the report's
  ``RandomRotation(0.2)``), small shifts and zoom, brightness and contrast.
  It is stateless: the same seed gives the same copy, so a training stream
  is reproducible while each epoch draws fresh seeds.
* :func:`augmentation_layers` is the report's in-model augmentation for
  photos (``RandomFlip('horizontal')`` + ``RandomRotation(0.2)``), active in
  training only.
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


@dataclasses.dataclass(frozen=True)
class PhotoConfig:
    """Ranges of the photo-like rendering of a Fashion-MNIST-like image.

    Attributes:
      canvas: (min, max) side of the rendered photo, in pixels.
      object_fraction: (min, max) share of the canvas the object's longest side covers.
      light_background: probability of a light background (shop photos).
      texture: largest amplitude of the background's low-frequency texture.
      max_blur: largest Gaussian blur sigma, in rendered pixels.
      max_noise: largest standard deviation of the pixel noise.
      jpeg_quality: (min, max) JPEG quality of the rendered photo.
    """

    canvas: tuple = (36, 84)
    object_fraction: tuple = (0.5, 0.95)
    light_background: float = 0.7
    texture: float = 0.08
    max_blur: float = 1.5
    max_noise: float = 0.04
    jpeg_quality: tuple = (40, 95)


def _uniform(seed, low, high, shape=()):
    return tf.random.stateless_uniform(shape, seed, low, high)


def _background(seed, side, light: tf.Tensor, config: PhotoConfig) -> tf.Tensor:
    """A light or dark, coloured background with low-frequency texture, [side, side, 3]."""
    seeds = tf.random.experimental.stateless_split(seed, 3)
    base = tf.where(light, _uniform(seeds[0], 0.7, 1.0, [3]), _uniform(seeds[0], 0.0, 0.3, [3]))
    coarse = _uniform(seeds[1], -1.0, 1.0, [6, 6, 3]) * _uniform(seeds[2], 0.0, config.texture)
    texture = tf.image.resize(coarse[tf.newaxis], [side, side], method="bicubic")[0]
    return tf.clip_by_value(base + texture, 0.0, 1.0)


def _blur(image: tf.Tensor, sigma: tf.Tensor) -> tf.Tensor:
    """Gaussian blur of a [H, W, 3] image with a 5x5 kernel."""
    offsets = tf.range(-2.0, 3.0)
    weights = tf.exp(-0.5 * tf.square(offsets / tf.maximum(sigma, 1e-3)))
    weights = weights / tf.reduce_sum(weights)
    kernel = tf.tile((weights[:, None] * weights[None, :])[:, :, None, None], [1, 1, 3, 1])
    return tf.nn.depthwise_conv2d(image[tf.newaxis], kernel, [1, 1, 1, 1], "SAME")[0]


def render_photo(image: tf.Tensor, seed: tf.Tensor,
                 config: PhotoConfig = PhotoConfig()) -> tf.Tensor:
    """Renders a light-on-black [28, 28, 1] image as a photo-like RGB picture.

    The object is scaled and placed at random on a textured, coloured, light or
    dark background, given a colour that contrasts with it, mirrored at random,
    lit unevenly, blurred, noised and JPEG-compressed.

    Returns:
      float32 [S, S, 3] in [0, 1], S drawn from ``config.canvas``.
    """
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 10)
    side = tf.cast(_uniform(seeds[0], config.canvas[0], config.canvas[1] + 1), tf.int32)
    object_side = tf.maximum(8, tf.cast(
        tf.cast(side, tf.float32) * _uniform(seeds[1], *config.object_fraction), tf.int32))
    alpha = tf.image.resize(image, [object_side, object_side])
    alpha = tf.image.stateless_random_flip_left_right(alpha, seeds[2])
    room = side - object_side
    top = tf.cast(_uniform(seeds[3], 0.0, 1.0) * tf.cast(room + 1, tf.float32), tf.int32)
    left = tf.cast(_uniform(seeds[4], 0.0, 1.0) * tf.cast(room + 1, tf.float32), tf.int32)
    alpha = tf.image.pad_to_bounding_box(alpha, tf.minimum(top, room), tf.minimum(left, room),
                                         side, side)
    light = _uniform(seeds[5], 0.0, 1.0) < config.light_background
    # Fashion-MNIST is the negative of product photos: a dark object on a light
    # background (or the other way round) keeps the intensities as alpha.
    colour = tf.where(light, _uniform(seeds[6], 0.0, 0.35, [3]),
                      _uniform(seeds[6], 0.65, 1.0, [3]))
    photo = _background(seeds[7], side, light, config) * (1.0 - alpha) + colour * alpha
    ramp = tf.linspace(_uniform(seeds[8], 0.8, 1.0), _uniform(seeds[9], 0.8, 1.0), side)
    photo = photo * ramp[:, None, None]
    more = tf.random.experimental.stateless_split(seeds[9], 3)
    photo = _blur(photo, _uniform(more[0], 0.0, config.max_blur))
    photo = photo + tf.random.stateless_normal(tf.shape(photo), more[1]) * _uniform(
        more[2], 0.0, config.max_noise)
    photo = tf.clip_by_value(photo, 0.0, 1.0)
    return tf.image.stateless_random_jpeg_quality(photo, config.jpeg_quality[0],
                                                  config.jpeg_quality[1], more[0])
