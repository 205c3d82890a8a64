"""The photo path: find the object of each photo and draw it light on black, batched.

1. colour, at most ``work_side`` pixels on a side;
2. each pixel's distance to a background model fitted to the upper border
   (robust to a garment cut off by the frame), in any channel, so light on
   light and dark on dark stay visible; glare spots and their halo removed;
3. the foreground: Otsu's threshold on the distances, at least the border's
   own texture, with quantile fallbacks when the share is implausible, so it
   never collapses; thin lines (folds, seams) opened away; optionally
   (``closing``) pieces a few pixels apart joined (stripes, a print), and
   (``weak_share``) fainter pixels joined to it added (hysteresis);
4. the object: the largest connected region of the foreground and those at
   least ``keep_region_share`` of it (the other shoe of a pair), on a coarse
   grid;
5. its distance becomes its lightness, scaled so that its ``peak_quantile`` is
   white; crop to it, fit and centre.

Every function takes a batch of equal-sized photos, [N, H, W, ...]: the
training stream normalizes each batch of rendered photos at once, and a single
photo is a batch of one, so training and serving compute the same pixels.
The background model is in :mod:`.background`, the glare in :mod:`.glare`,
the foreground and its regions in :mod:`.foreground`.
"""

from __future__ import annotations

import tensorflow as tf

from imagepipe.components.normalize.background import distance_to_background
from imagepipe.components.normalize.foreground import main_regions
from imagepipe.components.normalize.glare import without_glare
from imagepipe.components.normalize.ops import (fitted_boxes, grown, histogram_quantile,
                                                histograms, mask_boxes, shrink, to_rgb)
from imagepipe.components.normalize.parameters import DEFAULT, Parameters


def photo_objects(images: tf.Tensor, size: int, params: Parameters = DEFAULT) -> tf.Tensor:
    """Finds the object of each photo and draws it light on black, [N, size, size], fitted, centred.

    The foreground is what differs from the border's background model
    (:func:`~.foreground.foreground`); the main connected regions of it are the
    object (:func:`~.foreground.main_regions`); its distance to the background becomes
    its lightness, scaled so that its ``peak_quantile`` is white (a glare spot
    cannot dim the rest). A photo with anything on it never comes out empty.

    Args:
      images: uint8 or float [N, H, W, C] photos of equal size, C in {1, 3, 4}.
      size: side of the output squares.
      params: the tuning parameters.
    """
    rgb = shrink(to_rgb(images), params.work_side)
    distance, mask = without_glare(rgb, distance_to_background(rgb, params), params)
    regions = main_regions(mask, params)
    object_mask = tf.logical_and(mask, regions)
    high = tf.maximum(tf.reduce_max(distance, axis=[1, 2]), 1e-6)
    peak = histogram_quantile(histograms(distance, high, params.histogram_bins,
                                         weights=object_mask), high, params.peak_quantile)
    peak = tf.where(tf.reduce_any(object_mask, axis=[1, 2]), peak, 1.0)
    # The object's soft edge, a pixel beyond the mask, stays; removed glare does not return.
    lightness = tf.where(tf.logical_and(regions, grown(mask)),
                         distance / tf.maximum(peak, 1e-3)[:, None, None], 0.0)
    return fitted_boxes(tf.clip_by_value(lightness, 0.0, 1.0), mask_boxes(object_mask), size)


def photo_object(image: tf.Tensor, size: int, params: Parameters = DEFAULT) -> tf.Tensor:
    """:func:`photo_objects` of one [H, W, C] photo: [size, size]."""
    return photo_objects(image[tf.newaxis], size, params)[0]