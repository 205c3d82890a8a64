"""Normalization of any picture into a Fashion-MNIST-like 28x28 image.

Fashion-MNIST images are grayscale, a light garment on black, trimmed to the
garment and centred with the longest side fitted to 28 pixels. Photos from
web shops and phones are large, colourful, on light or busy backgrounds and
off-centre. :func:`fashion_mnist_like` brings both to the same form, in
TensorFlow ops so that it runs inside Transform and therefore inside every
served model.

Images whose border is mostly black (Fashion-MNIST's own form) take the
direct path, close to the identity on Fashion-MNIST:

1. grayscale, float [0, 1];
2. the background plane (fitted to the border) and its spread are subtracted;
3. crop to the bounding box of the pixels clearly above the background;
4. the brightest pixel becomes white (Fashion-MNIST images all peak at
   250-255);
5. keep the aspect ratio, fit the longest side to ``size``, centre on black.

Any other picture is a photo, and :func:`photo_object` finds its object
before drawing it:

1. colour, at most WORK_SIDE pixels on a side;
2. each pixel's distance to a background model fitted to the upper border
   (robust to a garment cut off by the frame), in any channel, so light on
   light and dark on dark stay visible; glare spots and their halo removed;
3. the foreground: Otsu's threshold on the distances, at least the border's
   own texture, with quantile fallbacks when the share is implausible, so it
   never collapses; thin lines (folds, seams) opened away;
4. the object: the largest connected region of the foreground and those at
   least KEEP_REGION_SHARE of it (the other shoe of a pair), on a coarse grid;
5. its distance becomes its lightness, scaled so that its PEAK_QUANTILE is
   white; crop to it, fit and centre as above.

:func:`fashion_mnist_like_batch` computes the same for a batch of equal-sized
images with batched ops: the direct path's arithmetic on a batch axis, and a
pure shift for step 5 when the object's longest side is already ``size`` (94%
of Fashion-MNIST images; a resize to the same size is the identity), so the
results are :func:`fashion_mnist_like`'s (eagerly bit for bit; in a graph,
where TensorFlow fuses the arithmetic differently, within 2e-4); the other
light-on-black images go through :func:`fashion_mnist_like` one by one.
Transform, the Evaluator and the served models run the direct path of it
(:func:`light_on_black_batch`) on every batch of 28x28 grayscale light-on-black
images, about nine times faster than image by image, and an image gets the
same pixels whatever else is in its batch. The photo path is batched
throughout (:func:`photo_objects`; one photo is a batch of one), so the
training stream normalizes the photos it renders as batches, four times faster
than one by one (``python bench/photo_stream_bench.py``), with the served
graph's pixels.
"""

from __future__ import annotations

import tensorflow as tf

# A pixel belongs to the object when it is this much above the background.
OBJECT_THRESHOLD = 0.05
# Images whose border median is at most this are already light on black (Fashion-MNIST).
DARK_BORDER = 0.02


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
    """Removes the background of a [H, W] image in [0, 1] that is light on a dark border.

    The background is a plane fitted to the border (level and lighting
    slopes); its residual spread on the border (3 median absolute deviations:
    texture, noise) is removed as well, so that only the object stays above 0.

    Returns:
      [H, W] in [0, 1] with the background at 0.
    """
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
    if image.shape[-1] == 1:
        return tf.image.convert_image_dtype(image, tf.float32)[..., 0]
    return tf.reduce_sum(_to_rgb(image) * _LUMA, axis=-1)


def has_dark_background(gray: tf.Tensor) -> tf.Tensor:
    """True for a [H, W] image in [0, 1] whose border is mostly black: Fashion-MNIST's form.

    Half the border at most may be object (a Fashion-MNIST garment fitted to
    the square touches two opposite sides); photos, even on dark floors, have
    texture and noise there.
    """
    return _dark_bordered(gray[tf.newaxis])[0]


def _dark_background_object(gray: tf.Tensor, size: int) -> tf.Tensor:
    """The direct path (steps 2-5) for an image already light on black: near the identity."""
    image = dark_background(gray)
    top, left, height, width = _object_box(image)
    cropped = tf.slice(image, tf.stack([top, left]), tf.stack([height, width]))
    cropped = cropped / tf.maximum(tf.reduce_max(cropped), OBJECT_THRESHOLD)
    return fit_and_centre(cropped, size)


def fashion_mnist_like(image: tf.Tensor, size: int = 28) -> tf.Tensor:
    """Normalizes one decoded image to a Fashion-MNIST-like [size, size, 1] float image.

    Images with a black border (Fashion-MNIST's own) keep their pixels up to a
    crop and fit; any other picture is a photo and goes through
    :func:`photo_object`, which finds the object first.

    Args:
      image: uint8 or float [H, W, C] with C in {1, 3, 4}, any size.
      size: side of the output square.

    Returns:
      float32 [size, size, 1] in [0, 1]: light object centred on black.
    """
    image = tf.convert_to_tensor(image)
    gray = to_gray(image)
    normalized = tf.cond(has_dark_background(gray),
                         lambda: _dark_background_object(gray, size),
                         lambda: photo_object(image, size))
    return tf.ensure_shape(tf.clip_by_value(normalized, 0.0, 1.0)[..., tf.newaxis],
                           [size, size, 1])


# ---------------------------------------------------------------- the photo path
#
# Every function of the photo path takes a batch of equal-sized photos, [N, H, W, ...]: the
# training stream normalizes each batch of rendered photos at once, and a single photo is a
# batch of one, so training and serving compute the same pixels.

# Photos are searched for their object at most this many pixels on a side.
WORK_SIDE = 128
# Connected regions are found on a grid of this many cells on a side.
REGION_GRID = 24
# Steps of region growing per loop turn.
GROW_STEPS = 6
# Regions at least this share of the largest one are kept (the other shoe, a loose sleeve).
KEEP_REGION_SHARE = 0.3
# Foreground shares outside this range are implausible: the threshold falls back to quantiles.
FOREGROUND_SHARE = (0.03, 0.8)
# Distances above this quantile (glare, a specular spot) are clipped before thresholding, never
# below half the largest one (a small object is all there is to see).
GLARE_QUANTILE = 0.98
# The object's intensity is scaled so that this quantile of it becomes white.
PEAK_QUANTILE = 0.95
HISTOGRAM_BINS = 64
# The foreground stands out more than this quantile of the border (robust to an object on it).
BORDER_TEXTURE_QUANTILE = 0.75
# Foreground lines and specks thinner than this many pixels (at WORK_SIDE) are not the object.
OPENING = 3
# Lighting may change the background by at most this much from one side of a photo to the other.
MAX_LIGHTING_SLOPE = 0.2
# The noise removed from the distances: this many median neighbour differences on the border.
NOISE_FACTOR = 3.0
# Specular pixels (glare): every channel above SPECULAR_LEVEL, SPECULAR_CONTRAST above the
# background.
SPECULAR_LEVEL = 0.85
SPECULAR_CONTRAST = 0.15
# Glare is removed with GLARE_HALO pixels around it, when that covers at most GLARE_MAX_SHARE of
# the photo, and with the rest of its soft edge: the pixels around it lighter than the background
# in every channel by GLARE_EDGE (white light adds to all three), up to GLARE_GROWTH pixels away.
GLARE_HALO = 9
GLARE_MAX_SHARE = 0.12
GLARE_EDGE = 0.04
GLARE_GROWTH = 16
# White light lightens every channel alike: a glare's edge differs from the background by at most
# this much more in one channel than in another (channels saturated at white aside). A light
# garment on a dark floor, specular in places, has a colour of its own and is kept.
GLARE_NEUTRAL = 0.08
SATURATED = 0.98
# Glare whose rim is more than this share foreground lies inside the object: it is the object's.
GLARE_ENCLOSED = 0.5
# The background's palette: this many colours sampled evenly along the upper border, those
# within PALETTE_SPREAD times the border's median distance (plus PALETTE_MARGIN) of the plane.
PALETTE_SIZE = 64
PALETTE_SPREAD = 2.0
PALETTE_MARGIN = 0.02
# Photos are compared with their palette at 1/PALETTE_SCALE of WORK_SIDE (the comparison is
# the dearest step of the photo path).
PALETTE_SCALE = 2
OUT_OF_REACH = 10.0


def _to_rgb(image: tf.Tensor) -> tf.Tensor:
    """[..., C] (C = 1, 3 or 4; uint8 or float) as float [..., 3] in [0, 1]."""
    image = tf.image.convert_image_dtype(image, tf.float32)
    channels = image.shape[-1]
    multiples = [1] * (image.shape.rank - 1) + [3]
    if channels is not None:
        return image[..., :3] if channels >= 3 else tf.tile(image[..., :1], multiples)
    return tf.cond(tf.shape(image)[-1] >= 3, lambda: image[..., :3],
                   lambda: tf.tile(image[..., :1], multiples))


def _shrink(rgb: tf.Tensor, side: int) -> tf.Tensor:
    """[N, H, W, 3] photos with their longest side at most ``side`` (area resize, aspect kept)."""
    shape = tf.shape(rgb)[1:3]
    longest = tf.reduce_max(shape)
    scale = side / tf.cast(longest, tf.float32)
    target = tf.maximum(1, tf.cast(tf.round(tf.cast(shape, tf.float32) * scale), tf.int32))
    return tf.cond(longest > side,
                   lambda: tf.image.resize(rgb, target, method="area", antialias=True),
                   lambda: rgb)


def _upper_border(images: tf.Tensor) -> tf.Tensor:
    """The top row and the upper halves of the side columns of [N, H, W, ...], [N, K, ...]."""
    half = tf.maximum(tf.shape(images)[1] // 2, 1)
    return tf.concat([images[:, 0], images[:, :half, 0], images[:, :half, -1]], axis=1)


def _medians(lines: tf.Tensor) -> tf.Tensor:
    """The median along axis 1 of [N, K, ...] values: [N, ...]."""
    ordered = tf.sort(lines, axis=1)
    return ordered[:, (tf.shape(lines)[1] - 1) // 2]


def photo_backgrounds(images: tf.Tensor) -> tf.Tensor:
    """The background of [N, H, W, C] photos per channel: a plane, robust to a cut-off.

    The level is the median of the upper border (a garment cut off by the frame
    runs off its bottom and sides: a body, a folded pile); the lighting slopes,
    from the medians of the top and bottom rows and of the upper halves of the
    side columns, are bounded so that an object on one line cannot tilt the
    plane into it.
    """
    half = tf.maximum(tf.shape(images)[1] // 2, 1)
    level = _medians(_upper_border(images))
    vertical = tf.clip_by_value(_medians(images[:, -1]) - _medians(images[:, 0]),
                                -MAX_LIGHTING_SLOPE, MAX_LIGHTING_SLOPE)
    horizontal = tf.clip_by_value(_medians(images[:, :half, -1]) - _medians(images[:, :half, 0]),
                                  -MAX_LIGHTING_SLOPE, MAX_LIGHTING_SLOPE)
    ys = tf.linspace(0.0, 1.0, tf.shape(images)[1])[None, :, None, None]
    xs = tf.linspace(-0.5, 0.5, tf.shape(images)[2])[None, None, :, None]
    return (level[:, None, None] + vertical[:, None, None] * ys
            + horizontal[:, None, None] * xs)


def photo_background(image: tf.Tensor) -> tf.Tensor:
    """:func:`photo_backgrounds` of one [H, W] or [H, W, C] photo, in its shape."""
    planes = image if image.shape.rank == 3 else image[..., tf.newaxis]
    background = photo_backgrounds(planes[tf.newaxis])[0]
    return background if image.shape.rank == 3 else background[..., 0]


def _ring(images: tf.Tensor) -> tf.Tensor:
    """The border of [N, H, W] images as one closed path each, clockwise from the top left."""
    return tf.concat([images[:, 0, :], images[:, 1:, -1], images[:, -1, -2::-1],
                      images[:, -2:0:-1, 0]], axis=1)


def background_palette(rgb: tf.Tensor, plane_distance: tf.Tensor):
    """The colours of each photo's background as sampled on its upper border.

    PALETTE_SIZE pixels evenly along the upper border (the top row and the
    upper halves of the sides, as for the plane); a sample farther from the
    plane than PALETTE_SPREAD times the border's median distance (plus
    PALETTE_MARGIN) is not background but the object or glare on the border,
    and is left out of the palette.

    Args:
      rgb: float [N, H, W, 3] photos.
      plane_distance: float [N, H, W], each pixel's distance to the plane.

    Returns:
      float [N, PALETTE_SIZE, 3] colours, bool [N, PALETTE_SIZE] (kept) and
      float [N], the kept colours' largest distance to the plane: how much
      the background itself deviates from it.
    """
    border = _upper_border(rgb)
    border_distance = _upper_border(plane_distance)
    length = tf.shape(border)[1]
    samples = tf.cast(tf.linspace(0.0, tf.cast(length - 1, tf.float32), PALETTE_SIZE), tf.int32)
    colours = tf.gather(border, samples, axis=1)
    distances = tf.gather(border_distance, samples, axis=1)
    cutoff = PALETTE_SPREAD * _batch_quantile(border_distance, 0.5) + PALETTE_MARGIN
    kept = distances <= cutoff[:, None]
    return colours, kept, tf.reduce_max(tf.where(kept, distances, 0.0), axis=1)


def palette_distance(rgb: tf.Tensor, colours: tf.Tensor, kept: tf.Tensor) -> tf.Tensor:
    """[N, H, W]: each pixel's distance (largest channel) to the nearest kept palette colour.

    Compared at 1/PALETTE_SCALE of the size and resized back.
    """
    size = tf.shape(rgb)[1:3]
    small = tf.image.resize(rgb, tf.maximum(size // PALETTE_SCALE, 1), method="area")
    # A colour left out of the palette is moved out of reach: no pixel is near it.
    colours = tf.where(kept[..., tf.newaxis], colours, OUT_OF_REACH)[:, None, None]
    nearest = tf.reduce_min(tf.maximum(tf.maximum(
        tf.abs(small[..., 0:1] - colours[..., 0]), tf.abs(small[..., 1:2] - colours[..., 1])),
        tf.abs(small[..., 2:3] - colours[..., 2])), axis=-1)
    return tf.image.resize(tf.minimum(nearest, 1.0)[..., tf.newaxis], size,
                           method="bilinear")[..., 0]


def distance_to_background(rgb: tf.Tensor) -> tf.Tensor:
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
    plane_distance = tf.reduce_max(tf.abs(rgb - photo_backgrounds(rgb)), axis=-1)
    colours, kept, span = background_palette(rgb, plane_distance)
    distance = tf.minimum(plane_distance, tf.maximum(palette_distance(rgb, colours, kept),
                                                     plane_distance - span[:, None, None]))
    ring = _ring(distance)
    noise = NOISE_FACTOR * _batch_quantile(tf.abs(ring - tf.roll(ring, 1, axis=1)), 0.5)
    return tf.nn.relu(distance - noise[:, None, None])


def specular(rgb: tf.Tensor) -> tf.Tensor:
    """[N, H, W] bool: near-white pixels much lighter than the background: glare, reflections."""
    gray = tf.reduce_sum(rgb * _LUMA, axis=-1)
    background = _batch_quantile(_upper_border(gray), 0.5)
    return tf.logical_and(tf.reduce_min(rgb, axis=-1) > SPECULAR_LEVEL,
                          gray > background[:, None, None] + SPECULAR_CONTRAST)


def _histograms(values: tf.Tensor, high: tf.Tensor, weights: tf.Tensor | None = None
                ) -> tf.Tensor:
    """float [N, HISTOGRAM_BINS] counts of [N, ...] ``values`` over [0, high[n]] per row.

    Values above ``high`` fall in the last bin; ``weights`` (as ``values``)
    count each value that much. One segment sum for the whole batch.
    """
    rows = tf.shape(values)[0]
    flat = tf.reshape(values, [rows, -1])
    bins = tf.clip_by_value(tf.cast(tf.floor(flat / high[:, None] * HISTOGRAM_BINS), tf.int32),
                            0, HISTOGRAM_BINS - 1)
    segments = bins + HISTOGRAM_BINS * tf.range(rows)[:, None]
    counted = tf.ones_like(flat) if weights is None else tf.reshape(
        tf.cast(weights, tf.float32), [rows, -1])
    counts = tf.math.unsorted_segment_sum(counted, segments, rows * HISTOGRAM_BINS)
    return tf.reshape(counts, [rows, HISTOGRAM_BINS])


def _histogram_quantile(counts: tf.Tensor, high: tf.Tensor, q) -> tf.Tensor:
    """The ``q`` quantile of each row of [N, bins] histograms over [0, high[n]]: its bin's top.

    Photos use histograms, not sorts: sorting every pixel of every training
    photo cost more than the rest of the normalization.
    """
    below = tf.cumsum(counts, axis=1) / tf.maximum(tf.reduce_sum(counts, axis=1, keepdims=True),
                                                   1.0)
    index = tf.minimum(tf.reduce_sum(tf.cast(below < q, tf.int32), axis=1), HISTOGRAM_BINS - 1)
    return tf.cast(index + 1, tf.float32) * high / HISTOGRAM_BINS


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


def foreground(distance: tf.Tensor) -> tf.Tensor:
    """[N, H, W] bool: the pixels of each photo that stand out from its background.

    Otsu's threshold on the distances (glare clipped), at least as high as
    most of the border's own (a patterned or wooden background's texture is
    as strong all over the photo as on its border); when that leaves an
    implausibly small or large share of the photo, quantiles of the distances
    take over, so the foreground never collapses to nothing while anything
    differs from the background.
    """
    high = tf.maximum(tf.reduce_max(distance, axis=[1, 2]), 1e-6)
    counts = _histograms(distance, high)

    def quantile(q):
        return _histogram_quantile(counts, high, q)

    clip = tf.maximum(quantile(GLARE_QUANTILE), 0.5 * high)
    clipped = tf.minimum(distance, clip[:, None, None])
    texture = _batch_quantile(_ring(clipped), BORDER_TEXTURE_QUANTILE)
    threshold = tf.maximum(otsu_threshold(_histograms(clipped, clip), clip), texture)
    share = tf.reduce_mean(tf.cast(clipped > threshold[:, None, None], tf.float32), axis=[1, 2])
    low, high_share = FOREGROUND_SHARE
    threshold = tf.where(share < low, tf.minimum(threshold, tf.minimum(quantile(0.9), clip)),
                         threshold)
    threshold = tf.where(share > high_share,
                         tf.maximum(threshold, tf.minimum(quantile(0.5), clip)), threshold)
    return opened(clipped > threshold[:, None, None])


def _as_channels(planes: tf.Tensor) -> tf.Tensor:
    """[N, H, W] as one [1, H, W, N] image: pooling is fast over channels, slow over a batch."""
    return tf.transpose(planes, [1, 2, 0])[tf.newaxis]


def _from_channels(image: tf.Tensor) -> tf.Tensor:
    """The [N, H, W] planes of a [1, H, W, N] image (:func:`_as_channels` undone)."""
    return tf.transpose(image[0], [2, 0, 1])


def _max_filter(planes: tf.Tensor, window: int) -> tf.Tensor:
    """The largest value of each ``window`` square around each pixel of [N, H, W] planes."""
    return _from_channels(tf.nn.max_pool2d(_as_channels(planes), window, 1, "SAME"))


def opened(mask: tf.Tensor) -> tf.Tensor:
    """[N, H, W] ``mask`` without lines and specks thinner than OPENING pixels (seams, folds).

    A photo's mask stays as it was when opening would leave nothing of it.
    """
    eroded = -_max_filter(-tf.cast(mask, tf.float32), OPENING)
    result = _max_filter(eroded, OPENING) > 0.0
    return tf.where(tf.reduce_any(result, axis=[1, 2])[:, None, None], result, mask)


def _region_labels(cells: tf.Tensor) -> tf.Tensor:
    """int32 [N, G, G]: one id per connected region of float [N, G, G] cells (0 off them)."""
    grid = cells.shape[1]
    cells = _as_channels(cells)
    ids = tf.reshape(tf.range(1, grid * grid + 1, dtype=tf.float32), [1, grid, grid, 1]) * cells

    def grow(labels, _):
        grown = labels
        for _ in range(GROW_STEPS):  # several steps per loop turn: a turn costs more than a step
            grown = tf.nn.max_pool2d(grown, 3, 1, "SAME") * cells
        return grown, tf.reduce_any(tf.not_equal(grown, labels))

    labels, _ = tf.while_loop(lambda labels, changed: changed, grow, (ids, tf.constant(True)),
                              maximum_iterations=2 * grid // GROW_STEPS)
    return tf.cast(_from_channels(labels), tf.int32)


def _to_grid(mask: tf.Tensor) -> tf.Tensor:
    """float [N, G, G]: the share of each grid cell's pixels that are set in [N, H, W]."""
    return tf.image.resize(tf.cast(mask, tf.float32)[..., tf.newaxis],
                           [REGION_GRID, REGION_GRID], method="area")[..., 0]


def main_regions(mask: tf.Tensor) -> tf.Tensor:
    """[N, H, W] bool: the cells of each mask's largest connected region and of those nearly as big.

    Regions are found on a REGION_GRID square grid (a cell is set when any of
    its pixels is), grown by one cell so that pieces a few pixels apart stay
    one object, by propagating the largest cell id through each region. Folds,
    sheet edges and spots apart from the object are dropped.
    """
    rows = tf.shape(mask)[0]
    segments = REGION_GRID * REGION_GRID + 1  # id 0 is the background
    cells = tf.cast(_to_grid(mask) > 0.0, tf.float32)
    labels = _region_labels(_max_filter(cells, 3))
    offsets = segments * tf.range(rows)[:, None, None]
    sizes = tf.reshape(tf.math.unsorted_segment_sum(cells, labels + offsets,
                                                    rows * segments), [rows, segments])
    sizes = sizes * tf.cast(tf.range(segments) > 0, tf.float32)[None, :]
    largest = tf.reduce_max(sizes, axis=1, keepdims=True)
    kept = tf.logical_and(sizes > 0.0, sizes >= KEEP_REGION_SHARE * largest)
    kept_cells = tf.cast(tf.gather(kept, labels, batch_dims=1), tf.float32)[..., tf.newaxis]
    kept_pixels = tf.image.resize(kept_cells, tf.shape(mask)[1:3], method="nearest")[..., 0]
    return kept_pixels > 0.5


def glare_zone(rgb: tf.Tensor, distance: tf.Tensor) -> tf.Tensor:
    """[N, H, W] bool: glare spots and their soft edge; nothing when they are too big for glare.

    The spots are the specular pixels, grown into their surroundings as far as
    those are lighter than the background in every channel (the fading edge of
    a light spot), at most GLARE_GROWTH pixels. A white garment on a dark floor
    is near white too: glare whose halo (GLARE_HALO pixels around it) covers
    more than GLARE_MAX_SHARE of the photo is taken for the object and kept.
    """
    spots = tf.cast(specular(rgb), tf.float32)
    allowed = tf.maximum(tf.cast(tf.logical_and(_white_light(rgb), distance > GLARE_EDGE),
                                 tf.float32), spots)
    edge = spots
    for _ in range(GLARE_GROWTH // 2):  # two pixels a step
        edge = _max_filter(edge, 5) * allowed
    halo = _max_filter(spots, GLARE_HALO) > 0.0
    small = tf.reduce_mean(tf.cast(halo, tf.float32), axis=[1, 2]) <= GLARE_MAX_SHARE
    return tf.logical_and(tf.logical_or(halo, edge > 0.0), small[:, None, None])


def _share(mask: tf.Tensor) -> tf.Tensor:
    """[N]: the share of each [N, H, W] mask that is set."""
    return tf.reduce_mean(tf.cast(mask, tf.float32), axis=[1, 2])


def _without_glare(rgb: tf.Tensor, distance: tf.Tensor):
    """The distances of [N, H, W, 3] photos with their glare removed, and their foreground.

    Glare lies beside the object or on it. A photo whose foreground without
    the glare is smaller than the glare itself, or surrounds it (more than
    GLARE_ENCLOSED of the glare's rim is foreground), was a light object (a
    white garment on a dark floor, its lightest parts), not glare on one: it
    keeps its distances as they were.

    Returns:
      float [N, H, W] distances and bool [N, H, W] :func:`foreground`.
    """
    return tf.cond(tf.reduce_any(specular(rgb)), lambda: _cleared_of_glare(rgb, distance),
                   lambda: (distance, foreground(distance)))


def _cleared_of_glare(rgb: tf.Tensor, distance: tf.Tensor):
    """:func:`_without_glare` of photos some of which have specular pixels."""
    zone = glare_zone(rgb, distance)
    cleared = tf.where(zone, 0.0, distance)
    mask = foreground(cleared)
    rim = tf.logical_and(_grown(zone), tf.logical_not(zone))
    enclosed = tf.math.divide_no_nan(_share(tf.logical_and(rim, mask)), _share(rim))
    light_object = tf.logical_or(_share(mask) < _share(zone), enclosed > GLARE_ENCLOSED)

    def kept():
        return (tf.where(light_object[:, None, None], distance, cleared),
                tf.where(light_object[:, None, None], foreground(distance), mask))

    return tf.cond(tf.reduce_any(light_object), kept, lambda: (cleared, mask))


def _white_light(rgb: tf.Tensor) -> tf.Tensor:
    """[N, H, W] bool: pixels lighter than the background by GLARE_EDGE, alike in every channel."""
    lift = rgb - photo_backgrounds(rgb)
    free = rgb < SATURATED
    most = tf.reduce_max(tf.where(free, lift, -1.0), axis=-1)
    least = tf.reduce_min(tf.where(free, lift, 1.0), axis=-1)
    alike = tf.logical_or(most - least <= GLARE_NEUTRAL, least > most)
    return tf.logical_and(tf.reduce_min(lift, axis=-1) > GLARE_EDGE, alike)


def _grown(mask: tf.Tensor, pixels: int = 1) -> tf.Tensor:
    """[N, H, W] bool ``mask`` grown by ``pixels`` in every direction."""
    return _max_filter(tf.cast(mask, tf.float32), 2 * pixels + 1) > 0.0


def _fitted_boxes(images: tf.Tensor, boxes, size: int) -> tf.Tensor:
    """Each [H, W] image of [N, H, W] cropped to its box (top, left, height, width), fitted."""
    def fit(args):
        image, top, left, height, width = args
        cropped = tf.slice(image, tf.stack([top, left]), tf.stack([height, width]))
        return fit_and_centre(cropped, size)

    return tf.map_fn(fit, (images, *boxes),
                     fn_output_signature=tf.TensorSpec([size, size], tf.float32))


def photo_objects(images: tf.Tensor, size: int) -> tf.Tensor:
    """Finds the object of each photo and draws it light on black, [N, size, size], fitted, centred.

    The foreground is what differs from the border's background model
    (:func:`foreground`); the main connected regions of it are the object
    (:func:`main_regions`); its distance to the background becomes its
    lightness, scaled so that its PEAK_QUANTILE is white (a glare spot cannot
    dim the rest). A photo with anything on it never comes out empty.

    Args:
      images: uint8 or float [N, H, W, C] photos of equal size, C in {1, 3, 4}.
      size: side of the output squares.
    """
    rgb = _shrink(_to_rgb(images), WORK_SIDE)
    distance, mask = _without_glare(rgb, distance_to_background(rgb))
    regions = main_regions(mask)
    object_mask = tf.logical_and(mask, regions)
    high = tf.maximum(tf.reduce_max(distance, axis=[1, 2]), 1e-6)
    peak = _histogram_quantile(_histograms(distance, high, weights=object_mask), high,
                               PEAK_QUANTILE)
    peak = tf.where(tf.reduce_any(object_mask, axis=[1, 2]), peak, 1.0)
    # The object's soft edge, a pixel beyond the mask, stays; removed glare does not return.
    lightness = tf.where(tf.logical_and(regions, _grown(mask)),
                         distance / tf.maximum(peak, 1e-3)[:, None, None], 0.0)
    boxes = _mask_boxes(object_mask)
    return _fitted_boxes(tf.clip_by_value(lightness, 0.0, 1.0), boxes, size)


def photo_object(image: tf.Tensor, size: int) -> tf.Tensor:
    """:func:`photo_objects` of one [H, W, C] photo: [size, size]."""
    return photo_objects(image[tf.newaxis], size)[0]


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


def first_and_last(mask: tf.Tensor):
    """Index of the first and of the last True of each row of [N, K]; (0, K - 1) when none."""
    length = tf.shape(mask)[1]
    any_true = tf.reduce_any(mask, axis=1)
    first = tf.argmax(tf.cast(mask, tf.int32), axis=1, output_type=tf.int32)
    last = length - 1 - tf.argmax(tf.cast(mask[:, ::-1], tf.int32), axis=1,
                                  output_type=tf.int32)
    return tf.where(any_true, first, 0), tf.where(any_true, last, length - 1), any_true


def _batch_object_box(images: tf.Tensor):
    """``_object_box`` of each image of [N, H, W] (the whole image when a box is empty)."""
    return _mask_boxes(images > OBJECT_THRESHOLD)


def _mask_boxes(mask: tf.Tensor):
    """(top, left, height, width), each [N], of the True pixels of [N, H, W] (all if none)."""
    top, bottom, any_rows = first_and_last(tf.reduce_any(mask, axis=2))
    left, right, any_cols = first_and_last(tf.reduce_any(mask, axis=1))
    empty = tf.logical_not(tf.logical_and(any_rows, any_cols))
    height, width = tf.shape(mask)[1], tf.shape(mask)[2]
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


def _dark_bordered(gray: tf.Tensor) -> tf.Tensor:
    """bool [N]: :func:`has_dark_background` of each [H, W] image of [N, H, W]."""
    return _batch_quantile(_batch_border(gray), 0.5) <= DARK_BORDER


def light_on_black(images: tf.Tensor) -> tf.Tensor:
    """bool [N]: which images of [N, H, W, C] take the direct path (a mostly black border)."""
    return _dark_bordered(_batch_gray(images))


def light_on_black_batch(images: tf.Tensor, size: int = 28) -> tf.Tensor:
    """:func:`fashion_mnist_like` of equal-sized images that are all :func:`light_on_black`.

    The direct path only, without the photo path's graph: Transform decodes
    Fashion-MNIST with it, and its graph, saved in every transform output and
    served model, loads and traces in a fraction of the time.

    Args:
      images: uint8 or float [N, H, W, C], C in {1, 3, 4}, light objects on black.
      size: side of the output squares.

    Returns:
      float32 [N, size, size, 1].
    """
    gray = _batch_dark_background(_batch_gray(images))
    top, left, height, width = _batch_object_box(gray)
    peak = tf.maximum(tf.reduce_max(gray, axis=[1, 2]), OBJECT_THRESHOLD)
    scaled = gray / peak[:, None, None]
    fast = tf.clip_by_value(_shift_into_place(scaled, top, left, height, width, size), 0.0, 1.0)
    # Boxes whose longest side is not ``size`` are resized: one by one.
    resized = tf.where(tf.maximum(height, width) != size)[:, 0]
    slow = tf.map_fn(
        lambda image: tf.clip_by_value(_dark_background_object(to_gray(image), size), 0.0, 1.0),
        tf.gather(images, resized), fn_output_signature=tf.TensorSpec([size, size], tf.float32))
    result = tf.tensor_scatter_nd_update(fast, resized[:, None], slow)
    return tf.ensure_shape(result[..., tf.newaxis], [None, size, size, 1])


def fashion_mnist_like_batch(images: tf.Tensor, size: int = 28) -> tf.Tensor:
    """:func:`fashion_mnist_like` of every image of an equal-sized batch, batched.

    Light-on-black images take :func:`light_on_black_batch`, photos
    :func:`photo_objects`, each group as one batch.

    Args:
      images: uint8 or float [N, H, W, C], C in {1, 3, 4}, any equal size.
      size: side of the output squares.

    Returns:
      float32 [N, size, size, 1], ``fashion_mnist_like`` of each image.
    """
    dark = light_on_black(images)
    photos, others = tf.where(tf.logical_not(dark))[:, 0], tf.where(dark)[:, 0]
    result = tf.zeros([tf.shape(images)[0], size, size])
    result = tf.tensor_scatter_nd_update(
        result, others[:, None], light_on_black_batch(tf.gather(images, others), size)[..., 0])
    found = tf.cond(tf.size(photos) > 0,
                    lambda: tf.clip_by_value(photo_objects(tf.gather(images, photos), size),
                                             0.0, 1.0),
                    lambda: tf.zeros([0, size, size]))
    result = tf.tensor_scatter_nd_update(result, photos[:, None], found)
    return tf.ensure_shape(result[..., tf.newaxis], [None, size, size, 1])


def _batch_gray(images: tf.Tensor) -> tf.Tensor:
    """``to_gray`` of each image of [N, H, W, C]."""
    return tf.map_fn(to_gray, images, fn_output_signature=tf.float32) \
        if images.shape[-1] is None else tf.image.convert_image_dtype(
            images, tf.float32)[..., 0] if images.shape[-1] == 1 else tf.reduce_sum(
            tf.image.convert_image_dtype(images, tf.float32)[..., :3] * _LUMA, axis=-1)
