"""The normalization's tuning parameters, as one frozen record that a bench can vary.

Every threshold, share and size of the direct path and of the photo path is a
field here; the functions of the package take a :class:`Parameters` (default
:data:`DEFAULT`, the values the served models use), so a variant is measured
by passing ``dataclasses.replace(DEFAULT, ...)`` instead of patching a copy.
"""

from __future__ import annotations

import dataclasses
from typing import Tuple


@dataclasses.dataclass(frozen=True)
class Parameters:
    """The normalization's tuning parameters (sizes are pixels or cells).

    Attributes:
      object_threshold: a pixel belongs to the object when it is this much
        above the background (the direct path).
      dark_border: images whose border median is at most this are already
        light on black (Fashion-MNIST) and take the direct path.
      work_side: photos are searched for their object at most this many
        pixels on a side.
      region_grid: connected regions are found on a grid of this many cells
        on a side.
      grow_steps: steps of region growing per loop turn.
      keep_region_share: regions at least this share of the largest one are
        kept (the other shoe, a loose sleeve).
      foreground_share: foreground shares outside this range are
        implausible: the threshold falls back to quantiles.
      glare_quantile: distances above this quantile (glare, a specular spot)
        are clipped before thresholding, never below half the largest one (a
        small object is all there is to see).
      peak_quantile: the object's intensity is scaled so that this quantile of
        it becomes white.
      histogram_bins: bins of the distance histograms.
      weak_share: pixels above this share of the foreground's threshold (and
        above the border's texture) join the foreground where they connect to
        it (hysteresis): a garment's plain body joins its print and its
        edges; 1.0 (the default) turns it off: with 0.5 the real photos
        gained bottoms and lost shoes (decision 0028).
      border_texture_quantile: the foreground stands out more than this
        quantile of the border (robust to an object on it).
      closing: foreground pieces fewer than this many pixels apart (at
        ``work_side``) are joined where one of them survives the opening, so
        a striped, printed or seamed garment is found whole; 1 (the
        default) turns it off: 5 helped the real photos of a model trained
        without it, a model trained with it did no better (decision 0029).
      opening: foreground lines and specks thinner than this many pixels (at
        ``work_side``) are not the object.
      max_lighting_slope: lighting may change the background by at most this
        much from one side of a photo to the other.
      noise_factor: the noise removed from the distances: this many median
        neighbour differences on the border.
      specular_level: specular pixels (glare) have every channel above this...
      specular_contrast: ...and are this much lighter than the background.
      glare_halo: glare is removed with this many pixels around it...
      glare_max_share: ...when that covers at most this share of the photo...
      glare_edge: ...and with the rest of its soft edge: the pixels around it
        lighter than the background in every channel by this much (white
        light adds to all three)...
      glare_growth: ...up to this many pixels away.
      glare_neutral: white light lightens every channel alike: a glare's edge
        differs from the background by at most this much more in one channel
        than in another (a light garment on a dark floor, specular in places,
        has a colour of its own and is kept).
      saturated: channels at least this light count as saturated at white
        (left out of ``glare_neutral``'s comparison).
      glare_enclosed: glare whose rim is more than this share foreground lies
        inside the object: it is the object's.
      palette_size: the background's palette: this many colours sampled evenly
        along the upper border...
      palette_spread: ...those within this many times the border's median
        distance of the plane...
      palette_margin: ...plus this margin.
      palette_scale: photos are compared with their palette at 1/this of
        ``work_side`` (the comparison is the dearest step of the photo path).
      out_of_reach: where a colour left out of the palette is moved, so that
        no pixel is near it.
      corners: above 0, the background's level and palette are sampled from
        the photo's four corner squares, this share of its shorter side each,
        instead of its upper border (a garment filling the frame covers the
        border but rarely the corners); 0 (the default) samples the upper
        border: the corners alone did no better on the real photos, as the
        served second view (0.15) they help (decision 0030).
    """

    object_threshold: float = 0.05
    dark_border: float = 0.02
    work_side: int = 128
    region_grid: int = 24
    grow_steps: int = 6
    keep_region_share: float = 0.3
    foreground_share: Tuple[float, float] = (0.03, 0.8)
    glare_quantile: float = 0.98
    peak_quantile: float = 0.95
    histogram_bins: int = 64
    weak_share: float = 1.0
    border_texture_quantile: float = 0.75
    closing: int = 1
    opening: int = 3
    max_lighting_slope: float = 0.2
    noise_factor: float = 3.0
    specular_level: float = 0.85
    specular_contrast: float = 0.15
    glare_halo: int = 9
    glare_max_share: float = 0.12
    glare_edge: float = 0.04
    glare_growth: int = 16
    glare_neutral: float = 0.08
    saturated: float = 0.98
    glare_enclosed: float = 0.5
    palette_size: int = 64
    palette_spread: float = 2.0
    palette_margin: float = 0.02
    palette_scale: int = 2
    out_of_reach: float = 10.0
    corners: float = 0.0


DEFAULT = Parameters()
# The second view of a served photo under ``--test-time joined``: its background sampled at its
# corners and its pieces joined (decisions 0029, 0030).
JOINED = Parameters(closing=5, corners=0.15)
