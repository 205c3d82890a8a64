"""Image augmentation: the one place that defines it, for tf.data and for models.

* :func:`augment_image` makes a modified copy of one float image in [0, 1]:
  horizontal flip, rotation up to ±0.2 of a turn (the report's
  ``RandomRotation(0.2)``), small shifts and zoom, brightness and contrast.
  It is stateless: the same seed gives the same copy, so a training stream
  is reproducible while each epoch draws fresh seeds.
* :func:`augmentation_layers` is the report's in-model augmentation for
  photos (``RandomFlip('horizontal')`` + ``RandomRotation(0.2)``), active in
  training only.
* :func:`render_photos` renders a batch of Fashion-MNIST-like images as
  photo-like pictures (the training stream's photo augmentation), batched:
  one transform, one blur and one noise draw for the whole batch.
"""

from __future__ import annotations

import dataclasses
import math

import tensorflow as tf
import tf_keras as keras

from imagepipe.components import normalize


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
    hanger: float = 0.15
    worn: float = 0.15
    max_blur: float = 1.5
    max_noise: float = 0.04
    jpeg_quality: tuple = (40, 95)


# Garment kinds: how a class's garments are photographed. Shoes come in pairs
# (PhotoConfig.pair), tops and bottoms on hangers (PhotoConfig.hanger), and
# every kind worn (PhotoConfig.worn); a class of no known kind is never staged.
NO_KIND, TOP, BOTTOM, SHOE = 0, 1, 2, 3
GARMENT_KINDS = {"upper": TOP, "lower": BOTTOM, "shoes": SHOE}


def garment_kinds(class_names) -> tuple:
    """The garment kind of each class of ``class_names``, by id (NO_KIND when unknown)."""
    return tuple(GARMENT_KINDS.get(name, NO_KIND) for name in class_names)


def _uniform(seed, low, high, shape=()):
    return tf.random.stateless_uniform(shape, seed, low, high)


def _backgrounds(seed, base: tf.Tensor, side, config: PhotoConfig) -> tf.Tensor:
    """Backgrounds of ``base`` [N, 3] colours with texture, some with grain, [N, side, side, 3]."""
    seeds = tf.random.experimental.stateless_split(seed, 7)
    count = tf.shape(base)[0]
    amplitude = _uniform(seeds[1], 0.0, config.texture, [count])
    coarse = _uniform(seeds[0], -1.0, 1.0, [count, 6, 6, 3]) * amplitude[:, None, None, None]
    texture = tf.image.resize(coarse, [side, side], method="bicubic")
    # Grain: waves across the canvas at a random angle, bent by the texture like wood.
    angle = _uniform(seeds[2], 0.0, math.pi, [count])
    cycles = _uniform(seeds[3], 3.0, 12.0, [count])
    position = tf.linspace(0.0, 1.0, side)
    across = (position[None, :, None] * tf.sin(angle)[:, None, None]
              + position[None, None, :] * tf.cos(angle)[:, None, None])
    phase = 2.0 * math.pi * cycles[:, None, None] * across + 20.0 * texture[..., 0]
    grained = _uniform(seeds[4], 0.0, 1.0, [count]) < config.grain
    grain_amplitude = tf.where(grained, _uniform(seeds[5], 0.03, config.grain_amplitude, [count]),
                               0.0)
    grain = (grain_amplitude[:, None, None] * tf.sin(phase))[..., tf.newaxis]
    return tf.clip_by_value(base[:, None, None, :] + texture + grain, 0.0, 1.0)


def _blurred(photos: tf.Tensor, sigmas: tf.Tensor) -> tf.Tensor:
    """Gaussian blur of each [S, S, 3] photo of [N, S, S, 3] with its sigma, a 5x5 kernel.

    One depthwise convolution for the batch: the photos' channels side by side.
    The edges are mirrored, not padded with black: a dark frame would be the
    border the normalization reads the background from.
    """
    offsets = tf.range(-2.0, 3.0)
    weights = tf.exp(-0.5 * tf.square(offsets[None, :] / tf.maximum(sigmas, 1e-3)[:, None]))
    weights = weights / tf.reduce_sum(weights, axis=1, keepdims=True)  # [N, 5]
    kernels = weights[:, :, None] * weights[:, None, :]  # [N, 5, 5]
    kernels = tf.repeat(tf.transpose(kernels, [1, 2, 0]), 3, axis=2)[..., tf.newaxis]
    shape = tf.shape(photos)
    side_by_side = tf.reshape(tf.transpose(photos, [1, 2, 0, 3]),
                              [1, shape[1], shape[2], shape[0] * 3])
    mirrored = tf.pad(side_by_side, [[0, 0], [2, 2], [2, 2], [0, 0]], mode="REFLECT")
    blurred = tf.nn.depthwise_conv2d(mirrored, kernels, [1, 1, 1, 1], "VALID")
    return tf.transpose(tf.reshape(blurred, [shape[1], shape[2], shape[0], 3]), [2, 0, 1, 3])


def _placements(images: tf.Tensor, side: tf.Tensor, object_side, top, left, mirrored
                ) -> tf.Tensor:
    """Each [H, W, 1] image scaled to ``object_side`` at (top, left) of a [side, side] canvas.

    One projective transform for the batch maps each canvas pixel into its
    image (pixel centres aligned as ``tf.image.resize`` aligns them), mirrored
    where ``mirrored``; the canvas outside the image is 0.
    """
    count = tf.shape(images)[0]
    height = tf.cast(tf.shape(images)[1], tf.float32)
    width = tf.cast(tf.shape(images)[2], tf.float32)
    scale_y, scale_x = height / object_side, width / object_side
    offset_x = (0.5 - left) * scale_x - 0.5
    zeros = tf.zeros([count])
    transforms = tf.stack([
        tf.where(mirrored, -scale_x, scale_x), zeros,
        tf.where(mirrored, width - 1.0 - offset_x, offset_x),
        zeros, scale_y, (0.5 - top) * scale_y - 0.5, zeros, zeros], axis=1)
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images, transforms=transforms, output_shape=tf.stack([side, side]),
        fill_value=0.0, interpolation="BILINEAR", fill_mode="CONSTANT")


def _random_offset(seed, room: tf.Tensor) -> tf.Tensor:
    """A whole number of pixels in [0, room] per photo, uniform."""
    return tf.minimum(tf.floor(_uniform(seed, 0.0, 1.0, tf.shape(room)) * (room + 1.0)), room)


def _placed(images: tf.Tensor, seeds, side: tf.Tensor, config: PhotoConfig) -> tf.Tensor:
    """Each image scaled, mirrored at random and placed at random on a [side, side] canvas."""
    count = tf.shape(images)[0]
    canvas = tf.cast(side, tf.float32)
    object_side = tf.maximum(8.0, tf.floor(canvas * _uniform(seeds[0], *config.object_fraction,
                                                             [count])))
    room = canvas - object_side
    mirrored = _uniform(seeds[3], 0.0, 1.0, [count]) < 0.5
    return _placements(images, side, object_side, _random_offset(seeds[1], room),
                       _random_offset(seeds[2], room), mirrored)


def _pairs(images: tf.Tensor, seeds, side: tf.Tensor) -> tf.Tensor:
    """Each image as a pair seen from above: turned a quarter, twice side by side, one mirrored."""
    count = tf.shape(images)[0]
    turned = tf.where((_uniform(seeds[0], 0.0, 1.0, [count]) < 0.5)[:, None, None, None],
                      tf.image.rot90(images, 1), tf.image.rot90(images, 3))
    canvas = tf.cast(side, tf.float32)
    object_side = tf.maximum(8.0, tf.floor(canvas * _uniform(seeds[1], 0.38, 0.48, [count])))
    gap = tf.floor(object_side * _uniform(seeds[2], 0.0, 0.2, [count]))
    top = _random_offset(seeds[3], canvas - object_side)
    left = _random_offset(seeds[4], canvas - 2.0 * object_side - gap)
    never = tf.zeros([count], tf.bool)
    return tf.maximum(_placements(turned, side, object_side, top, left, never),
                      _placements(turned, side, object_side, top, left + object_side + gap,
                                  tf.logical_not(never)))


def _staged(images: tf.Tensor, seeds, side: tf.Tensor, legs_below: tf.Tensor) -> tf.Tensor:
    """Each image placed smaller than :func:`_placed` places it, leaving room for what holds it.

    Room above the garment (a hanger, a head, a leg) or, where ``legs_below``,
    below it.
    """
    count = tf.shape(images)[0]
    canvas = tf.cast(side, tf.float32)
    object_side = tf.maximum(8.0, tf.floor(canvas * _uniform(seeds[0], 0.45, 0.7, [count])))
    lowest = tf.where(legs_below, 0.0, tf.floor(0.4 * object_side))
    highest = tf.where(legs_below, canvas - tf.floor(1.3 * object_side), canvas - object_side)
    top = lowest + _random_offset(seeds[1], tf.maximum(highest - lowest, 0.0))
    mirrored = _uniform(seeds[3], 0.0, 1.0, [count]) < 0.5
    return _placements(images, side, object_side, top,
                       _random_offset(seeds[2], canvas - object_side), mirrored)


def _lit_span(lit_columns: tf.Tensor):
    """(first, one past the last) lit column of each [N, S] bool row, as float32 [N]."""
    first, last, _ = normalize.first_and_last(lit_columns)
    return tf.cast(first, tf.float32), tf.cast(last + 1, tf.float32)


def _extents(alpha: tf.Tensor) -> dict:
    """Where each placed garment of [N, S, S, 1] coverage is, in canvas pixels, each [N]:
    its top and bottom edges and the lit span of its top and bottom three rows."""
    lit = alpha[..., 0] > 0.3
    side = tf.shape(alpha)[1]
    top, bottom = _lit_span(tf.reduce_any(lit, axis=2))
    rows = tf.cast(tf.range(side), tf.float32)[None, :]
    top_band = (rows >= top[:, None]) & (rows < top[:, None] + 3.0)
    bottom_band = (rows < bottom[:, None]) & (rows >= bottom[:, None] - 3.0)
    top_left, top_right = _lit_span(tf.reduce_any(lit & top_band[:, :, None], axis=1))
    bottom_left, bottom_right = _lit_span(tf.reduce_any(lit & bottom_band[:, :, None], axis=1))
    return {"top": top, "bottom": bottom, "top_left": top_left, "top_right": top_right,
            "bottom_left": bottom_left, "bottom_right": bottom_right}


def _capsules(segments: tf.Tensor, side: tf.Tensor) -> tf.Tensor:
    """Coverage [N, side, side, 1] of each photo's capsules (thick line segments).

    Args:
      segments: float32 [N, K, 5], rows of (y0, x0, y1, x1, radius) in canvas
        pixels; a radius of -1 draws nothing.
      side: the canvas side.
    """
    centres = tf.range(tf.cast(side, tf.float32)) + 0.5
    y, x = centres[None, None, :, None], centres[None, None, None, :]
    y0, x0, y1, x1, radius = (segments[..., i, None, None] for i in range(5))
    dy, dx = y1 - y0, x1 - x0
    along = tf.clip_by_value(((y - y0) * dy + (x - x0) * dx)
                             / tf.maximum(dy * dy + dx * dx, 1e-6), 0.0, 1.0)
    distance = tf.sqrt(tf.square(y - y0 - along * dy) + tf.square(x - x0 - along * dx))
    return tf.reduce_max(tf.clip_by_value(radius - distance + 0.5, 0.0, 1.0),
                         axis=1)[..., tf.newaxis]


def _segments(*rows) -> tf.Tensor:
    """[N, len(rows), 5] from rows of five [N] (or scalar) tensors."""
    return tf.stack([tf.stack([tf.broadcast_to(tf.cast(v, tf.float32), tf.shape(rows[0][0]))
                               for v in row], axis=1) for row in rows], axis=1)


def _hanger(extent: dict, thickness) -> tf.Tensor:
    """[N, 5, 5] capsules of a hanger: a hook, two arms to the top corners, the bar between."""
    top, left, right = extent["top"], extent["top_left"], extent["top_right"]
    width = right - left
    centre = (left + right) / 2.0
    shoulder_left, shoulder_right, shoulders = left + 0.05 * width, right - 0.05 * width, top + 1.0
    base = top - 0.3 * width
    stem = base - 0.12 * width
    return _segments((base, centre, shoulders, shoulder_left, thickness),
                     (base, centre, shoulders, shoulder_right, thickness),
                     (shoulders, shoulder_left, shoulders, shoulder_right, thickness),
                     (base, centre, stem, centre, thickness),
                     (stem, centre, base - 0.2 * width, centre + 0.1 * width, thickness))


def _body(extent: dict, kinds: tf.Tensor, side: tf.Tensor) -> tf.Tensor:
    """[N, 2, 5] capsules of the body that wears each garment, by its kind.

    A top: a neck and a head above its collar. A bottom: two legs from its
    hems down out of the frame. A shoe: an ankle and shin rising from its
    opening, one and a half times the shoe's height.
    """
    canvas = tf.cast(side, tf.float32)
    top, bottom = extent["top"], extent["bottom"]
    collar = extent["top_right"] - extent["top_left"]
    centre = (extent["top_left"] + extent["top_right"]) / 2.0
    hems = extent["bottom_right"] - extent["bottom_left"]
    leg_left = extent["bottom_left"] + 0.2 * hems
    leg_right = extent["bottom_right"] - 0.2 * hems
    chin = top - 0.24 * collar
    neck, head, left_leg, right_leg, shin = tf.unstack(_segments(
        (top + 1.0, centre, top - 0.12 * collar, centre, 0.08 * collar),
        (chin, centre, chin - 0.1 * collar, centre, 0.16 * collar),
        (bottom - 1.0, leg_left, bottom + canvas, leg_left, 0.1 * hems),
        (bottom - 1.0, leg_right, bottom + canvas, leg_right, 0.1 * hems),
        (top + 2.0, centre, top - 1.5 * (bottom - top), centre,
         tf.minimum(0.25 * collar, 0.07 * canvas))), axis=1)
    is_top = tf.equal(kinds, TOP)[:, None]
    is_bottom = tf.equal(kinds, BOTTOM)[:, None]
    return tf.stack([tf.where(is_top, neck, tf.where(is_bottom, left_leg, shin)),
                     tf.where(is_top, head, tf.where(is_bottom, right_leg, shin))], axis=1)


def _skin(seed, count) -> tf.Tensor:
    """[N, 3] skin tones, from light to dark."""
    tone = _uniform(seed, 0.0, 1.0, [count])[:, None]
    light, dark = tf.constant([[0.94, 0.78, 0.66]]), tf.constant([[0.35, 0.22, 0.15]])
    return light + tone * (dark - light)


def _colours(seeds, light: tf.Tensor, base: tf.Tensor, config: PhotoConfig) -> tf.Tensor:
    """[N, 3] object colours: dark on light and light on dark, some light on light."""
    count = tf.shape(light)[0]
    # Fashion-MNIST is the negative of product photos: a dark object on a light
    # background (or the other way round) keeps the intensities as alpha.
    contrasting = tf.where(light[:, None], _uniform(seeds[0], 0.0, 0.35, [count, 3]),
                           _uniform(seeds[0], 0.65, 1.0, [count, 3]))
    darker = base - _uniform(seeds[1], *config.low_contrast, [count])[:, None]
    light_on_light = tf.logical_and(
        light, _uniform(seeds[2], 0.0, 1.0, [count]) < config.light_on_light)
    return tf.where(light_on_light[:, None], tf.clip_by_value(darker, 0.0, 1.0), contrasting)


def _scenes(images: tf.Tensor, kinds: tf.Tensor | None, seeds, side: tf.Tensor,
            config: PhotoConfig):
    """Each garment's coverage, and the coverage and colour of what holds it.

    A shoe may be one of a pair seen from above; a top or a bottom may hang on
    a hanger; a garment of any known kind may be worn (:func:`_body`).

    Returns:
      (garment [N, S, S, 1], holder [N, S, S, 1], holder colour [N, 3]): the
      holder is a hanger or a body, nothing where neither.
    """
    count = tf.shape(images)[0]
    alpha = _placed(images, seeds[0:4], side, config)
    if kinds is None:
        return alpha, tf.zeros_like(alpha), tf.zeros([count, 3])
    kinds = tf.cast(kinds, tf.int32)
    scene = _uniform(seeds[4], 0.0, 1.0, [count])
    is_shoe = tf.equal(kinds, SHOE)
    hangable = tf.equal(kinds, TOP) | tf.equal(kinds, BOTTOM)
    paired = is_shoe & (scene < config.pair)
    hung = hangable & (scene < config.hanger)
    # Each photo draws one scene: the kind's own staging first, then worn.
    first = tf.where(is_shoe, config.pair, tf.where(hangable, config.hanger, 0.0))
    worn = tf.not_equal(kinds, NO_KIND) & (scene >= first) & (scene < first + config.worn)
    # Only the photos staged so are placed again (a pair: a sixth or less of them; hung or
    # worn, with a holder drawn: a quarter or less).
    pairs = tf.where(paired)[:, 0]
    alpha = tf.tensor_scatter_nd_update(
        alpha, pairs[:, None], _pairs(tf.gather(images, pairs), seeds[5:10], side))
    held = tf.where(hung | worn)[:, 0]
    held_kinds = tf.gather(kinds, held)
    garments = _staged(tf.gather(images, held), seeds[10:14], side,
                       tf.gather(worn & tf.equal(kinds, BOTTOM), held))
    alpha = tf.tensor_scatter_nd_update(alpha, held[:, None], garments)
    extent = _extents(garments)
    hanger = _hanger(extent, tf.maximum(0.6, 0.02 * tf.cast(side, tf.float32)))
    body = tf.pad(_body(extent, held_kinds, side), [[0, 0], [0, 3], [0, 0]], constant_values=-1.0)
    holders = _capsules(tf.where(tf.gather(hung, held)[:, None, None], hanger, body), side)
    holder = tf.scatter_nd(held[:, None], holders, tf.shape(alpha, out_type=tf.int64))
    colour = tf.where(hung[:, None], _uniform(seeds[14], 0.0, 0.6, [count, 3]),
                      _skin(seeds[15], count))
    return alpha, holder, colour


def render_photos(images: tf.Tensor, seed: tf.Tensor, config: PhotoConfig = PhotoConfig(),
                  kinds: tf.Tensor | None = None) -> tf.Tensor:
    """Renders light-on-black [N, 28, 28, 1] images as photo-like RGB pictures, as a batch.

    Each object is scaled and placed at random on a textured (some wooden or
    striped), coloured, light or dark background, given a colour that contrasts
    with it (or, light on light, one a little darker than the background),
    mirrored at random, lit unevenly, blurred, noised and JPEG-compressed.
    Garments of a known kind are staged as photographed (:func:`_scenes`): shoes
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

    Returns:
      float32 [N, S, S, 3] in [0, 1].
    """
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 12)
    count = tf.shape(images)[0]
    side = tf.cast(_uniform(seeds[0], config.canvas[0], config.canvas[1] + 1), tf.int32)
    alpha, holder, holder_colour = _scenes(
        images, kinds, tf.random.experimental.stateless_split(seeds[1], 16), side, config)
    light = _uniform(seeds[2], 0.0, 1.0, [count]) < config.light_background
    base = tf.where(light[:, None], _uniform(seeds[3], 0.7, 1.0, [count, 3]),
                    _uniform(seeds[3], 0.0, 0.3, [count, 3]))
    colour = _colours(tf.random.experimental.stateless_split(seeds[4], 3), light, base, config)
    photos = _backgrounds(seeds[5], base, side, config)
    photos = photos * (1.0 - holder) + holder_colour[:, None, None, :] * holder
    photos = photos * (1.0 - alpha) + colour[:, None, None, :] * alpha
    start = _uniform(seeds[6], 0.8, 1.0, [count])
    end = _uniform(seeds[7], 0.8, 1.0, [count])
    ramp = start[:, None] + (end - start)[:, None] * tf.linspace(0.0, 1.0, side)[None, :]
    photos = _blurred(photos * ramp[:, :, None, None],
                      _uniform(seeds[8], 0.0, config.max_blur, [count]))
    noise = _uniform(seeds[9], 0.0, config.max_noise, [count])
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
