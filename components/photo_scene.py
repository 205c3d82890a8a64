"""Where a rendered photo's garment goes: placed on the canvas, paired, hung or worn.

The scene of :func:`~imagepipe.components.photo_render.render_photos`: each
garment is scaled and placed at random; a shoe may be one of a pair seen from
above, a top or a bottom may hang on a hanger, and a garment of any known kind
may be worn (a head and neck above a top, legs below a bottom, a leg rising
from a shoe). Hangers and bodies are drawn as capsules (thick line segments)
whose proportions are named below, as shares of the garment's measured extent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Dict

import tensorflow as tf

from imagepipe.components.normalize import first_and_last
from imagepipe.components.photo_garments import (recut_bottoms, refitted, seen_from_above,
                                                 spread_tops)

if TYPE_CHECKING:
    from imagepipe.components.photo_render import PhotoConfig

# Garment kinds: how a class's garments are photographed. Shoes come in pairs
# (PhotoConfig.pair), tops and bottoms on hangers (PhotoConfig.hanger), and
# every kind worn (PhotoConfig.worn); a class of no known kind is never staged.
NO_KIND, TOP, BOTTOM, SHOE = 0, 1, 2, 3
GARMENT_KINDS = {"upper": TOP, "lower": BOTTOM, "shoes": SHOE}

# Placement, in shares of the canvas side (pixels where said).
MIN_OBJECT_SIDE = 8.0  # pixels: a garment is never drawn smaller
MIRRORED = 0.5  # probability that a garment is mirrored
TURNED_LEFT = 0.5  # probability that a pair is turned a quarter left (else right)
PAIR_SHOE_SIDE = (0.55, 0.95)  # (min, max) side of each shoe of a pair (its length)
STAGED_SIDE = (0.45, 0.7)  # (min, max) side of a hung or worn garment
ROOM_ABOVE = 0.4  # room above a staged garment (hook, head), in shares of its side
WITH_LEGS_BELOW = 1.3  # a worn bottom and the legs in frame below it, in its sides

# Measuring a placed garment.
LIT = 0.3  # coverage above which a canvas pixel is the garment's
EDGE_ROWS = 3.0  # rows of its top and bottom edge whose lit span is measured

# Capsules, in shares of the garment's top width (hanger, neck, head), its hem
# width (legs) or its height (shin); ends overlap the garment by OVERLAP pixels.
OVERLAP = 1.0
HANGER_SHOULDER_INSET = 0.05  # the arms end this far inside the top corners
HANGER_ARMS_RISE = 0.3  # the arms meet this far above the garment's top
HANGER_STEM = 0.12  # the stem above the arms' meeting point
HANGER_HOOK_RISE, HANGER_HOOK_REACH = 0.2, 0.1  # the hook's end: up and aside
HANGER_THICKNESS = (0.6, 0.02)  # radius: at least 0.6 pixels, else this share of the canvas
HANGER_COLOURS = (0.0, 0.6)  # (min, max) of each channel of a hanger's colour
NECK_LENGTH, NECK_RADIUS = 0.12, 0.08
CHIN_HEIGHT = 0.24  # the chin (the head's lower end) above the collar
HEAD_LENGTH, HEAD_RADIUS = 0.1, 0.16
LEG_INSET, LEG_RADIUS = 0.2, 0.1  # in shares of the hem width
SHIN_OVERLAP = 2.0  # pixels the shin reaches into the shoe
SHIN_LENGTH = 1.5  # in shares of the shoe's height
SHIN_RADIUS, SHIN_MAX_RADIUS = 0.25, 0.07  # of the collar, at most this share of the canvas
LIGHT_SKIN = [0.94, 0.78, 0.66]  # RGB of the lightest and of the darkest skin tone
DARK_SKIN = [0.35, 0.22, 0.15]

Extent = Dict[str, tf.Tensor]


def garment_kinds(class_names) -> tuple:
    """The garment kind of each class of ``class_names``, by id (NO_KIND when unknown)."""
    return tuple(GARMENT_KINDS.get(name, NO_KIND) for name in class_names)


def uniform(seed, low, high, shape=()) -> tf.Tensor:
    """Stateless uniform draws in [low, high) of ``shape``."""
    return tf.random.stateless_uniform(shape, seed, low, high)


def placements(images: tf.Tensor, side: tf.Tensor, object_side, top, left, mirrored
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


def random_offset(seed, room: tf.Tensor) -> tf.Tensor:
    """A whole number of pixels in [0, room] per photo, uniform."""
    return tf.minimum(tf.floor(uniform(seed, 0.0, 1.0, tf.shape(room)) * (room + 1.0)), room)


def placed(images: tf.Tensor, seeds, side: tf.Tensor, config: PhotoConfig) -> tf.Tensor:
    """Each image scaled, mirrored at random and placed at random on a [side, side] canvas."""
    count = tf.shape(images)[0]
    canvas = tf.cast(side, tf.float32)
    object_side = tf.maximum(MIN_OBJECT_SIDE, tf.floor(
        canvas * uniform(seeds[0], *config.object_fraction, [count])))
    room = canvas - object_side
    mirrored = uniform(seeds[3], 0.0, 1.0, [count]) < MIRRORED
    return placements(images, side, object_side, random_offset(seeds[1], room),
                      random_offset(seeds[2], room), mirrored)


def pairs(images: tf.Tensor, seeds, side: tf.Tensor, config: PhotoConfig) -> tf.Tensor:
    """Each image as a pair seen from above: turned a quarter, twice side by side, one mirrored.

    ``config.top_view`` of the pairs show each shoe's outline from above
    (:func:`~imagepipe.components.photo_garments.seen_from_above`), the others
    the turned side view.

    The shoes are set apart by their lit width, not by their frames, so the
    two touch, overlap a little or leave a small gap (``config.pair_gap``),
    as real pairs lie.
    """
    count = tf.shape(images)[0]
    turned = tf.where((uniform(seeds[0], 0.0, 1.0, [count]) < TURNED_LEFT)[:, None, None, None],
                      tf.image.rot90(images, 1), tf.image.rot90(images, 3))
    if config.top_view > 0.0:  # the outlines are drawn only where some pair may show them
        from_above = uniform(tf.random.experimental.stateless_fold_in(seeds[0], 1), 0.0, 1.0,
                             [count]) < config.top_view
        outlines = seen_from_above(turned, tf.random.experimental.stateless_fold_in(seeds[0], 2))
        turned = tf.where(from_above[:, None, None, None], outlines, turned)
    canvas = tf.cast(side, tf.float32)
    frame = tf.cast(tf.shape(turned)[2], tf.float32)
    first, last = lit_span(tf.reduce_any(turned[..., 0] > LIT, axis=1))
    object_side = tf.maximum(MIN_OBJECT_SIDE,
                             tf.floor(canvas * uniform(seeds[1], *PAIR_SHOE_SIDE, [count])))
    shoe_width = tf.maximum(last - first, 1.0) * object_side / frame
    apart = tf.floor(shoe_width * (1.0 + uniform(seeds[2], *config.pair_gap, [count])))
    top = random_offset(seeds[3], canvas - object_side)
    # Where each shoe's lit part starts inside its frame; the second shoe is mirrored.
    lit_left = first * object_side / frame
    mirrored_lit_left = (frame - last) * object_side / frame
    start = random_offset(seeds[4], tf.maximum(canvas - apart - shoe_width, 0.0))
    never = tf.zeros([count], tf.bool)
    return tf.maximum(placements(turned, side, object_side, top, start - lit_left, never),
                      placements(turned, side, object_side, top,
                                 start + apart - mirrored_lit_left, tf.logical_not(never)))


PAIR_CANVAS = 2  # a pair drawn as an image is laid out on this many times its frame, then fitted


def pair_images(images: tf.Tensor, seed, config: PhotoConfig) -> tf.Tensor:
    """Each shoe [N, H, W, 1] as an image of a pair seen from above (:func:`pairs`), fitted to H.

    The pair is laid out on a larger canvas and fitted back, so its shoes are
    drawn from the full-size frame, not from a shrunken copy.
    """
    size = images.shape[1]
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 5)
    laid_out = pairs(images, seeds, tf.constant(PAIR_CANVAS * size), config)
    return refitted(laid_out, size)


def staged(images: tf.Tensor, seeds, side: tf.Tensor, legs_below: tf.Tensor) -> tf.Tensor:
    """Each image placed smaller than :func:`placed` places it, leaving room for what holds it.

    Room above the garment (a hanger, a head, a leg) or, where ``legs_below``,
    below it.
    """
    count = tf.shape(images)[0]
    canvas = tf.cast(side, tf.float32)
    object_side = tf.maximum(MIN_OBJECT_SIDE,
                             tf.floor(canvas * uniform(seeds[0], *STAGED_SIDE, [count])))
    lowest = tf.where(legs_below, 0.0, tf.floor(ROOM_ABOVE * object_side))
    highest = tf.where(legs_below, canvas - tf.floor(WITH_LEGS_BELOW * object_side),
                       canvas - object_side)
    top = lowest + random_offset(seeds[1], tf.maximum(highest - lowest, 0.0))
    mirrored = uniform(seeds[3], 0.0, 1.0, [count]) < MIRRORED
    return placements(images, side, object_side, top,
                      random_offset(seeds[2], canvas - object_side), mirrored)


def lit_span(lit_columns: tf.Tensor):
    """(first, one past the last) lit column of each [N, S] bool row, as float32 [N]."""
    first, last, _ = first_and_last(lit_columns)
    return tf.cast(first, tf.float32), tf.cast(last + 1, tf.float32)


def extents(alpha: tf.Tensor) -> Extent:
    """Where each placed garment of [N, S, S, 1] coverage is, in canvas pixels, each [N]:
    its top and bottom edges and the lit span of its top and bottom EDGE_ROWS rows."""
    lit = alpha[..., 0] > LIT
    side = tf.shape(alpha)[1]
    top, bottom = lit_span(tf.reduce_any(lit, axis=2))
    rows = tf.cast(tf.range(side), tf.float32)[None, :]
    top_band = (rows >= top[:, None]) & (rows < top[:, None] + EDGE_ROWS)
    bottom_band = (rows < bottom[:, None]) & (rows >= bottom[:, None] - EDGE_ROWS)
    top_left, top_right = lit_span(tf.reduce_any(lit & top_band[:, :, None], axis=1))
    bottom_left, bottom_right = lit_span(tf.reduce_any(lit & bottom_band[:, :, None], axis=1))
    return {"top": top, "bottom": bottom, "top_left": top_left, "top_right": top_right,
            "bottom_left": bottom_left, "bottom_right": bottom_right}


def capsules(segments: tf.Tensor, side: tf.Tensor) -> tf.Tensor:
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


def segments(*rows) -> tf.Tensor:
    """[N, len(rows), 5] from rows of five [N] (or scalar) tensors."""
    return tf.stack([tf.stack([tf.broadcast_to(tf.cast(v, tf.float32), tf.shape(rows[0][0]))
                               for v in row], axis=1) for row in rows], axis=1)


def hanger(extent: Extent, thickness) -> tf.Tensor:
    """[N, 5, 5] capsules of a hanger: a hook, two arms to the top corners, the bar between."""
    top, left, right = extent["top"], extent["top_left"], extent["top_right"]
    width = right - left
    centre = (left + right) / 2.0
    inset = HANGER_SHOULDER_INSET * width
    shoulder_left, shoulder_right, shoulders = left + inset, right - inset, top + OVERLAP
    base = top - HANGER_ARMS_RISE * width
    stem = base - HANGER_STEM * width
    return segments((base, centre, shoulders, shoulder_left, thickness),
                    (base, centre, shoulders, shoulder_right, thickness),
                     (shoulders, shoulder_left, shoulders, shoulder_right, thickness),
                     (base, centre, stem, centre, thickness),
                     (stem, centre, base - HANGER_HOOK_RISE * width, centre + HANGER_HOOK_REACH * width,
                      thickness))


def body(extent: Extent, kinds: tf.Tensor, side: tf.Tensor) -> tf.Tensor:
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
    leg_left = extent["bottom_left"] + LEG_INSET * hems
    leg_right = extent["bottom_right"] - LEG_INSET * hems
    chin = top - CHIN_HEIGHT * collar
    neck, head, left_leg, right_leg, shin = tf.unstack(segments(
        (top + OVERLAP, centre, top - NECK_LENGTH * collar, centre, NECK_RADIUS * collar),
        (chin, centre, chin - HEAD_LENGTH * collar, centre, HEAD_RADIUS * collar),
        (bottom - OVERLAP, leg_left, bottom + canvas, leg_left, LEG_RADIUS * hems),
        (bottom - OVERLAP, leg_right, bottom + canvas, leg_right, LEG_RADIUS * hems),
        (top + SHIN_OVERLAP, centre, top - SHIN_LENGTH * (bottom - top), centre,
         tf.minimum(SHIN_RADIUS * collar, SHIN_MAX_RADIUS * canvas))), axis=1)
    is_top = tf.equal(kinds, TOP)[:, None]
    is_bottom = tf.equal(kinds, BOTTOM)[:, None]
    return tf.stack([tf.where(is_top, neck, tf.where(is_bottom, left_leg, shin)),
                     tf.where(is_top, head, tf.where(is_bottom, right_leg, shin))], axis=1)


def skin(seed, count) -> tf.Tensor:
    """[N, 3] skin tones, from light to dark."""
    tone = uniform(seed, 0.0, 1.0, [count])[:, None]
    light, dark = tf.constant([LIGHT_SKIN]), tf.constant([DARK_SKIN])
    return light + tone * (dark - light)


def scenes(images: tf.Tensor, kinds: tf.Tensor | None, seeds, side: tf.Tensor,
           config: PhotoConfig, reshaped: tf.Tensor | None = None):
    """Each garment's coverage, and the coverage and colour of what holds it.

    A bottom may first be recut as shorts or a skirt
    (:func:`~imagepipe.components.photo_garments.recut_bottoms`), a top laid
    flat with its sleeves spread
    (:func:`~imagepipe.components.photo_garments.spread_tops`); a shoe may be
    one of a pair seen from above; a top or a bottom may hang on a hanger; a
    garment of any known kind may be worn (:func:`body`). Garments already
    ``reshaped`` (bool [N]: recut or paired before rendering) are neither
    recut nor paired again.

    Returns:
      (garment [N, S, S, 1], holder [N, S, S, 1], holder colour [N, 3]): the
      holder is a hanger or a body, nothing where neither.
    """
    count = tf.shape(images)[0]
    if kinds is not None:
        kinds = tf.cast(kinds, tf.int32)
        as_is = tf.zeros([count], tf.bool) if reshaped is None else reshaped
        images = recut_bottoms(images, tf.equal(kinds, BOTTOM) & ~as_is,
                               tf.random.experimental.stateless_fold_in(seeds[0], 1), config)
        images = spread_tops(images, tf.equal(kinds, TOP),
                             tf.random.experimental.stateless_fold_in(seeds[0], 3), config)
    alpha = placed(images, seeds[0:4], side, config)
    if kinds is None:
        return alpha, tf.zeros_like(alpha), tf.zeros([count, 3])
    scene = uniform(seeds[4], 0.0, 1.0, [count])
    is_shoe = tf.equal(kinds, SHOE)
    hangable = tf.equal(kinds, TOP) | tf.equal(kinds, BOTTOM)
    paired = is_shoe & (scene < config.pair) & ~as_is
    hung = hangable & (scene < config.hanger)
    # Each photo draws one scene: the kind's own staging first, then worn.
    first = tf.where(is_shoe, config.pair, tf.where(hangable, config.hanger, 0.0))
    worn = tf.not_equal(kinds, NO_KIND) & (scene >= first) & (scene < first + config.worn)
    # Only the photos staged so are placed again (a pair: a sixth or less of them; hung or
    # worn, with a holder drawn: a quarter or less).
    in_pairs = tf.where(paired)[:, 0]
    alpha = tf.tensor_scatter_nd_update(
        alpha, in_pairs[:, None], pairs(tf.gather(images, in_pairs), seeds[5:10], side, config))
    held = tf.where(hung | worn)[:, 0]
    held_kinds = tf.gather(kinds, held)
    garments = staged(tf.gather(images, held), seeds[10:14], side,
                      tf.gather(worn & tf.equal(kinds, BOTTOM), held))
    alpha = tf.tensor_scatter_nd_update(alpha, held[:, None], garments)
    extent = extents(garments)
    hangers = hanger(extent, tf.maximum(HANGER_THICKNESS[0],
                                        HANGER_THICKNESS[1] * tf.cast(side, tf.float32)))
    bodies = tf.pad(body(extent, held_kinds, side), [[0, 0], [0, 3], [0, 0]],
                    constant_values=-1.0)  # as many capsules as a hanger; -1: none
    holders = capsules(tf.where(tf.gather(hung, held)[:, None, None], hangers, bodies), side)
    holder = tf.scatter_nd(held[:, None], holders, tf.shape(alpha, out_type=tf.int64))
    colour = tf.where(hung[:, None], uniform(seeds[14], *HANGER_COLOURS, [count, 3]),
                      skin(seeds[15], count))
    return alpha, holder, colour
