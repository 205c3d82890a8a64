"""The foreground of photos: the pixels that stand out, opened, and its main connected regions.

Every function takes a batch of equal-sized masks or distances, [N, H, W]; one
photo is a batch of one.
"""

from __future__ import annotations

import tensorflow as tf

from imagepipe.components.normalize.ops import (as_channels, batch_quantile, from_channels,
                                                histogram_quantile, histograms, max_filter,
                                                otsu_threshold, ring)
from imagepipe.components.normalize.parameters import DEFAULT, Parameters


def foreground(distance: tf.Tensor, params: Parameters = DEFAULT) -> tf.Tensor:
    """[N, H, W] bool: the pixels of each photo that stand out from its background.

    Otsu's threshold on the distances (glare clipped), at least as high as
    most of the border's own (a patterned or wooden background's texture is
    as strong all over the photo as on its border); when that leaves an
    implausibly small or large share of the photo, quantiles of the distances
    take over, so the foreground never collapses to nothing while anything
    differs from the background. Its thin lines are removed and, with
    ``closing`` above 1, its pieces a few pixels apart joined
    (:func:`joined`). With ``weak_share`` below 1, fainter pixels, above
    that share of the threshold, join it where they connect to it
    (:func:`grown_within`).
    """
    bins = params.histogram_bins
    high = tf.maximum(tf.reduce_max(distance, axis=[1, 2]), 1e-6)
    counts = histograms(distance, high, bins)

    def quantile(q):
        return histogram_quantile(counts, high, q)

    clip = tf.maximum(quantile(params.glare_quantile), 0.5 * high)
    clipped = tf.minimum(distance, clip[:, None, None])
    texture = batch_quantile(ring(clipped), params.border_texture_quantile)
    threshold = tf.maximum(otsu_threshold(histograms(clipped, clip, bins), clip), texture)
    share = tf.reduce_mean(tf.cast(clipped > threshold[:, None, None], tf.float32), axis=[1, 2])
    low, high_share = params.foreground_share
    threshold = tf.where(share < low, tf.minimum(threshold, tf.minimum(quantile(0.9), clip)),
                         threshold)
    threshold = tf.where(share > high_share,
                         tf.maximum(threshold, tf.minimum(quantile(0.5), clip)), threshold)
    strong = joined(clipped > threshold[:, None, None], params)
    if params.weak_share >= 1.0:
        return strong
    weak_threshold = tf.maximum(texture, params.weak_share * threshold)
    return grown_within(strong, opened(clipped > weak_threshold[:, None, None], params), params)


def grown_within(strong: tf.Tensor, weak: tf.Tensor, params: Parameters = DEFAULT) -> tf.Tensor:
    """[N, H, W] bool: ``strong`` and the pixels of ``weak`` connected to it (hysteresis).

    A garment in a colour close to its background's stands out by its print,
    its seams and its shadowed edges only; its plain body, fainter but joined
    to them, is the garment too. Faint areas apart from anything strong stay
    out (a shadow, a fold of the sheet).
    """
    seeds = as_channels(tf.cast(strong, tf.float32))
    allowed = tf.maximum(as_channels(tf.cast(weak, tf.float32)), seeds)
    side = tf.maximum(tf.shape(strong)[1], tf.shape(strong)[2])
    return from_channels(spread_within(seeds, allowed, side // params.grow_steps + 1,
                                       params)) > 0.5


def spread_within(values: tf.Tensor, inside: tf.Tensor, turns, params: Parameters = DEFAULT
                  ) -> tf.Tensor:
    """[N, H, W, 1] ``values`` spread as their 3x3 maximum over the pixels ``inside`` (0 or 1).

    Each value reaches every pixel of its connected part of ``inside``, the
    largest winning, in at most ``turns`` turns of ``grow_steps`` steps.
    """
    def grow(spread, _):
        grown = spread
        for _ in range(params.grow_steps):  # several steps per turn: a turn costs more than a step
            grown = tf.nn.max_pool2d(grown, 3, 1, "SAME") * inside
        return grown, tf.reduce_any(tf.not_equal(grown, spread))

    spread, _ = tf.while_loop(lambda spread, changed: changed, grow, (values, tf.constant(True)),
                              maximum_iterations=turns)
    return spread


def joined(mask: tf.Tensor, params: Parameters = DEFAULT) -> tf.Tensor:
    """[N, H, W] bool: ``mask`` opened, each piece grown into the closed mask's part around it.

    A garment striped in its background's colour, or whose print and seams
    stand out more than its plain body, comes through the threshold as
    stripes and specks that the opening takes for folds and seams; closed
    (:func:`closed`), they are the garment. Only a closed part that holds a
    piece thick enough to survive the opening (a print, a button, a hem) is
    kept (:func:`grown_within`): a lone wire or hanger hook, closed into a
    blob, is not. ``closing`` 1: the opened mask.
    """
    pieces = opened(mask, params)
    if params.closing <= 1:
        return pieces
    return grown_within(pieces, opened(closed(mask, params), params), params)


def closed(mask: tf.Tensor, params: Parameters = DEFAULT) -> tf.Tensor:
    """[N, H, W] ``mask`` with its gaps narrower than ``closing`` pixels filled (1: as it is)."""
    if params.closing <= 1:
        return mask
    # Closed on a margin of background, so that pieces near the frame are not joined to it.
    margin = params.closing // 2
    padded = tf.pad(tf.cast(mask, tf.float32), [[0, 0], [margin, margin], [margin, margin]])
    dilated = max_filter(padded, params.closing)
    return (-max_filter(-dilated, params.closing) > 0.0)[:, margin:-margin, margin:-margin]


def opened(mask: tf.Tensor, params: Parameters = DEFAULT) -> tf.Tensor:
    """[N, H, W] ``mask`` without lines and specks thinner than ``opening`` pixels (seams, folds).

    A photo's mask stays as it was when opening would leave nothing of it.
    """
    eroded = -max_filter(-tf.cast(mask, tf.float32), params.opening)
    result = max_filter(eroded, params.opening) > 0.0
    return tf.where(tf.reduce_any(result, axis=[1, 2])[:, None, None], result, mask)


def region_labels(cells: tf.Tensor, params: Parameters = DEFAULT) -> tf.Tensor:
    """int32 [N, G, G]: one id per connected region of float [N, G, G] cells (0 off them)."""
    grid = cells.shape[1]
    cells = as_channels(cells)
    ids = tf.reshape(tf.range(1, grid * grid + 1, dtype=tf.float32), [1, grid, grid, 1]) * cells
    labels = spread_within(ids, cells, 2 * grid // params.grow_steps, params)
    return tf.cast(from_channels(labels), tf.int32)


def to_grid(mask: tf.Tensor, grid: int) -> tf.Tensor:
    """float [N, grid, grid]: the share of each grid cell's pixels that are set in [N, H, W]."""
    return tf.image.resize(tf.cast(mask, tf.float32)[..., tf.newaxis],
                           [grid, grid], method="area")[..., 0]


def main_regions(mask: tf.Tensor, params: Parameters = DEFAULT) -> tf.Tensor:
    """[N, H, W] bool: the cells of each mask's largest connected region and of those nearly as big.

    Regions are found on a ``region_grid`` square grid (a cell is set when any
    of its pixels is), grown by one cell so that pieces a few pixels apart stay
    one object, by propagating the largest cell id through each region; those
    at least ``keep_region_share`` of the largest are kept. Folds, sheet edges
    and spots apart from the object are dropped.
    """
    rows = tf.shape(mask)[0]
    segments = params.region_grid * params.region_grid + 1  # id 0 is the background
    cells = tf.cast(to_grid(mask, params.region_grid) > 0.0, tf.float32)
    labels = region_labels(max_filter(cells, 3), params)
    offsets = segments * tf.range(rows)[:, None, None]
    sizes = tf.reshape(tf.math.unsorted_segment_sum(cells, labels + offsets,
                                                    rows * segments), [rows, segments])
    sizes = sizes * tf.cast(tf.range(segments) > 0, tf.float32)[None, :]
    largest = tf.reduce_max(sizes, axis=1, keepdims=True)
    kept = tf.logical_and(sizes > 0.0, sizes >= params.keep_region_share * largest)
    kept_cells = tf.cast(tf.gather(kept, labels, batch_dims=1), tf.float32)[..., tf.newaxis]
    kept_pixels = tf.image.resize(kept_cells, tf.shape(mask)[1:3], method="nearest")[..., 0]
    return kept_pixels > 0.5
