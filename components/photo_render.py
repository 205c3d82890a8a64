"""Renders Fashion-MNIST-like images as photo-like pictures: the training stream's photo augmentation.

:func:`render_photos` renders a batch (one transform, one blur and one noise
draw for the whole batch); the scene (placement, pairs, hangers, bodies) is
:mod:`imagepipe.components.photo_scene`. The ranges a run may vary are
:class:`PhotoConfig`; the fixed choices of the rendering are named below.
"""

from __future__ import annotations

import dataclasses
import math

import tensorflow as tf

from imagepipe.components.photo_scene import scenes, uniform

TEXTURE_CELLS = 6  # a background's texture: random values on this many cells a side, smoothed
GRAIN_CYCLES = (3.0, 12.0)  # (min, max) waves of a grained background across the canvas
GRAIN_BEND = 20.0  # how far the texture bends the grain (radians per unit of texture)
MIN_GRAIN_AMPLITUDE = 0.03  # a grained background's waves are at least this strong
LIGHT_COLOURS_BACKGROUND = (0.7, 1.0)  # (min, max) of each channel of a light background
DARK_COLOURS_BACKGROUND = (0.0, 0.3)  # ... of a dark one
DARK_COLOURS = (0.0, 0.35)  # (min, max) of each channel of a dark object (on light)
LIGHT_COLOURS = (0.65, 1.0)  # ... of a light object (on dark)
LIGHTING = (0.8, 1.0)  # (min, max) light at the top and at the bottom of a photo
BLUR_RADIUS = 2.0  # the blur's kernel reaches this many pixels each way (5x5)


@dataclasses.dataclass(frozen=True)
class PhotoConfig:
    """Ranges of the photo-like rendering of a Fashion-MNIST-like image.

    Attributes:
      canvas: (min, max) side of the rendered photos, in pixels (one side per batch).
      object_fraction: (min, max) share of the canvas the object's longest side covers.
      light_background: probability of a light background (shop photos).
      texture: largest amplitude of the background's low-frequency texture.
      grain: probability of a wooden or striped background: waves of up to
        ``grain_amplitude`` across it, bent by the texture.
      grain_amplitude: largest amplitude of the grain.
      light_on_light: probability that an object on a light background is
        light too: ``low_contrast`` darker than the background, not dark.
      low_contrast: (min, max) how much darker than its background such an object is.
      pair: probability that a shoe (garment kind ``SHOE``) is photographed
        as a pair from above: turned a quarter, twice, side by side, the second
        mirrored.
      top_view: probability that a pair's shoes show their outline from
        above, symmetric about their length, rather than their side view.
      pair_gap: (min, max) gap between the shoes of a pair, in shares of a
        shoe's lit width: below 0 they overlap, 0 they touch.
      shorts: probability that a bottom (kind ``BOTTOM``: trousers) is
        recut as shorts (:mod:`~imagepipe.components.photo_garments`).
      skirt: probability that a bottom is recut as a skirt.
      legs_apart: probability that a bottom (trousers, not recut) lies with
        its legs apart, each swung out about the waist.
      sleeves_spread: probability that a top (kind ``TOP``) is laid flat
        with its sleeves spread out.
      hanger: probability that a top or a bottom (kinds ``TOP``, ``BOTTOM``)
        hangs on a hanger: a hook and two arms down to its top corners.
      worn: probability that a garment of a known kind is worn: a head and
        neck above a top, legs below a bottom, a leg rising from a shoe, in a
        skin tone; the garment then covers less of the canvas.
      max_blur: largest Gaussian blur sigma, in rendered pixels.
      max_noise: largest standard deviation of the pixel noise.
      jpeg_quality: (min, max) JPEG quality of the rendered photo.
    """

    canvas: tuple = (36, 84)
    object_fraction: tuple = (0.5, 0.95)
    light_background: float = 0.7
    texture: float = 0.08
    grain: float = 0.25
    grain_amplitude: float = 0.12
    light_on_light: float = 0.2
    low_contrast: tuple = (0.12, 0.3)
    pair: float = 0.5
    top_view: float = 1.0
    pair_gap: tuple = (-0.1, 0.25)
    shorts: float = 0.3
    skirt: float = 0.3
    legs_apart: float = 0.2
    sleeves_spread: float = 0.25
    hanger: float = 0.15
    worn: float = 0.15
    max_blur: float = 1.5
    max_noise: float = 0.04
    jpeg_quality: tuple = (40, 95)


def backgrounds(seed, base: tf.Tensor, side, config: PhotoConfig) -> tf.Tensor:
    """Backgrounds of ``base`` [N, 3] colours with texture, some with grain, [N, side, side, 3]."""
    seeds = tf.random.experimental.stateless_split(seed, 7)
    count = tf.shape(base)[0]
    amplitude = uniform(seeds[1], 0.0, config.texture, [count])
    coarse = (uniform(seeds[0], -1.0, 1.0, [count, TEXTURE_CELLS, TEXTURE_CELLS, 3])
              * amplitude[:, None, None, None])
    texture = tf.image.resize(coarse, [side, side], method="bicubic")
    # Grain: waves across the canvas at a random angle, bent by the texture like wood.
    angle = uniform(seeds[2], 0.0, math.pi, [count])
    cycles = uniform(seeds[3], *GRAIN_CYCLES, [count])
    position = tf.linspace(0.0, 1.0, side)
    across = (position[None, :, None] * tf.sin(angle)[:, None, None]
              + position[None, None, :] * tf.cos(angle)[:, None, None])
    phase = 2.0 * math.pi * cycles[:, None, None] * across + GRAIN_BEND * texture[..., 0]
    grained = uniform(seeds[4], 0.0, 1.0, [count]) < config.grain
    grain_amplitude = tf.where(grained, uniform(seeds[5], MIN_GRAIN_AMPLITUDE, config.grain_amplitude, [count]),
                               0.0)
    grain = (grain_amplitude[:, None, None] * tf.sin(phase))[..., tf.newaxis]
    return tf.clip_by_value(base[:, None, None, :] + texture + grain, 0.0, 1.0)


def blurred(photos: tf.Tensor, sigmas: tf.Tensor) -> tf.Tensor:
    """Gaussian blur of each [S, S, 3] photo of [N, S, S, 3] with its sigma, a 5x5 kernel.

    One depthwise convolution for the batch: the photos' channels side by side.
    The edges are mirrored, not padded with black: a dark frame would be the
    border the normalization reads the background from.
    """
    offsets = tf.range(-BLUR_RADIUS, BLUR_RADIUS + 1.0)
    weights = tf.exp(-0.5 * tf.square(offsets[None, :] / tf.maximum(sigmas, 1e-3)[:, None]))
    weights = weights / tf.reduce_sum(weights, axis=1, keepdims=True)  # [N, 5]
    kernels = weights[:, :, None] * weights[:, None, :]  # [N, 5, 5]
    kernels = tf.repeat(tf.transpose(kernels, [1, 2, 0]), 3, axis=2)[..., tf.newaxis]
    shape = tf.shape(photos)
    side_by_side = tf.reshape(tf.transpose(photos, [1, 2, 0, 3]),
                              [1, shape[1], shape[2], shape[0] * 3])
    radius = int(BLUR_RADIUS)
    mirrored = tf.pad(side_by_side, [[0, 0], [radius, radius], [radius, radius], [0, 0]],
                      mode="REFLECT")
    blurred = tf.nn.depthwise_conv2d(mirrored, kernels, [1, 1, 1, 1], "VALID")
    return tf.transpose(tf.reshape(blurred, [shape[1], shape[2], shape[0], 3]), [2, 0, 1, 3])


def colours(seeds, light: tf.Tensor, base: tf.Tensor, config: PhotoConfig) -> tf.Tensor:
    """[N, 3] object colours: dark on light and light on dark, some light on light."""
    count = tf.shape(light)[0]
    # Fashion-MNIST is the negative of product photos: a dark object on a light
    # background (or the other way round) keeps the intensities as alpha.
    contrasting = tf.where(light[:, None], uniform(seeds[0], *DARK_COLOURS, [count, 3]),
                           uniform(seeds[0], *LIGHT_COLOURS, [count, 3]))
    darker = base - uniform(seeds[1], *config.low_contrast, [count])[:, None]
    light_on_light = tf.logical_and(
        light, uniform(seeds[2], 0.0, 1.0, [count]) < config.light_on_light)
    return tf.where(light_on_light[:, None], tf.clip_by_value(darker, 0.0, 1.0), contrasting)


def render_photos(images: tf.Tensor, seed: tf.Tensor, config: PhotoConfig = PhotoConfig(),
                  kinds: tf.Tensor | None = None, reshaped: tf.Tensor | None = None
                  ) -> tf.Tensor:
    """Renders light-on-black [N, 28, 28, 1] images as photo-like RGB pictures, as a batch.

    Each object is scaled and placed at random on a textured (some wooden or
    striped), coloured, light or dark background, given a colour that contrasts
    with it (or, light on light, one a little darker than the background),
    mirrored at random, lit unevenly, blurred, noised and JPEG-compressed.
    Garments of a known kind are staged as photographed (:func:`~imagepipe.components.photo_scene.scenes`): shoes
    as a pair from above (``config.pair``), tops and bottoms on a hanger
    (``config.hanger``), any of them worn (``config.worn``). The photos of one
    call share their canvas side, drawn from ``config.canvas``; everything else
    is drawn per photo.

    Args:
      images: float32 [N, H, W, 1] in [0, 1], N >= 1, H = W.
      seed: int [2] stateless seed: the same seed, the same photos.
      config: the ranges of the rendering.
      kinds: int [N], each image's garment kind (``TOP``, ``BOTTOM``, ``SHOE``
        or ``NO_KIND``; see :func:`garment_kinds`); none staged when omitted.
      reshaped: bool [N], garments already recut or paired (the training
        stream's copies): staged, but not recut or paired again.

    Returns:
      float32 [N, S, S, 3] in [0, 1].
    """
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 12)
    count = tf.shape(images)[0]
    side = tf.cast(uniform(seeds[0], config.canvas[0], config.canvas[1] + 1), tf.int32)
    alpha, holder, holder_colour = scenes(
        images, kinds, tf.random.experimental.stateless_split(seeds[1], 16), side, config,
        reshaped)
    light = uniform(seeds[2], 0.0, 1.0, [count]) < config.light_background
    base = tf.where(light[:, None], uniform(seeds[3], *LIGHT_COLOURS_BACKGROUND, [count, 3]),
                    uniform(seeds[3], *DARK_COLOURS_BACKGROUND, [count, 3]))
    colour = colours(tf.random.experimental.stateless_split(seeds[4], 3), light, base, config)
    photos = backgrounds(seeds[5], base, side, config)
    photos = photos * (1.0 - holder) + holder_colour[:, None, None, :] * holder
    photos = photos * (1.0 - alpha) + colour[:, None, None, :] * alpha
    start = uniform(seeds[6], *LIGHTING, [count])
    end = uniform(seeds[7], *LIGHTING, [count])
    ramp = start[:, None] + (end - start)[:, None] * tf.linspace(0.0, 1.0, side)[None, :]
    photos = blurred(photos * ramp[:, :, None, None],
                     uniform(seeds[8], 0.0, config.max_blur, [count]))
    noise = uniform(seeds[9], 0.0, config.max_noise, [count])
    photos = tf.clip_by_value(
        photos + tf.random.stateless_normal(tf.shape(photos), seeds[10]) * noise[:, None, None, None],
        0.0, 1.0)
    qualities = tf.random.stateless_uniform([count], seeds[11], config.jpeg_quality[0],
                                            config.jpeg_quality[1] + 1, dtype=tf.int32)
    return tf.map_fn(lambda args: tf.image.adjust_jpeg_quality(*args), (photos, qualities),
                     fn_output_signature=tf.float32)


def render_photo(image: tf.Tensor, seed: tf.Tensor,
                 config: PhotoConfig = PhotoConfig()) -> tf.Tensor:
    """:func:`render_photos` of one [28, 28, 1] image: float32 [S, S, 3] in [0, 1]."""
    return render_photos(image[tf.newaxis], seed, config)[0]
