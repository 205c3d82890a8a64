"""Shorts and skirts cut from trousers for the photo renderer."""

import numpy as np
import tensorflow as tf

from imagepipe.components import photo_garments, photo_render, photo_scene


def _trousers(count: int = 4) -> np.ndarray:
    """Two straight legs 6 pixels wide from row 1 to row 26, a 4-pixel gap, a waistband."""
    images = np.zeros((count, 28, 28, 1), np.float32)
    images[:, 1:27, 7:13] = 0.8
    images[:, 1:27, 17:23] = 0.6
    images[:, 1:5, 7:23] = 0.8
    return images


def _lit_rows(image: np.ndarray) -> np.ndarray:
    return np.flatnonzero((image[..., 0] > photo_garments.LIT).any(axis=1))


def _lit_width(row: np.ndarray) -> int:
    lit = np.flatnonzero(row > photo_garments.LIT)
    return int(lit[-1] - lit[0] + 1)


def test_cut_keeps_the_given_share_of_the_lit_height():
    cut = photo_garments.cut(tf.constant(_trousers(2)), tf.constant([0.5, 0.25])).numpy()
    assert len(_lit_rows(cut[0])) == 13 and len(_lit_rows(cut[1])) == 7  # of 26 rows
    np.testing.assert_array_equal(cut[0, :14], _trousers(1)[0, :14])


def test_filled_joins_the_legs_with_the_rows_mean():
    filled = photo_garments.filled(tf.constant(_trousers(1))).numpy()[0, ..., 0]
    assert (filled[10, 13:17] > 0.69).all() and np.isclose(filled[10, 15], 0.7)
    np.testing.assert_array_equal(filled[10, 7:13], 0.8)  # the legs keep their values
    assert (filled[0] == 0).all() and (filled[:, :7] == 0).all()  # nothing outside


def test_flared_widens_the_hem_and_keeps_the_waist():
    trousers = tf.constant(_trousers(2))
    flared = photo_garments.flared(trousers, tf.constant([0.0, 0.5])).numpy()
    np.testing.assert_allclose(flared[0], _trousers(1)[0], atol=1e-6)
    assert _lit_width(flared[1, 1, :, 0]) == 16  # the waist: unchanged
    assert _lit_width(flared[1, 26, :, 0]) >= 23  # the hem: about 1.5 x 16


def _lit_box(image: np.ndarray):
    """(height, width) of the lit pixels of a [H, W, 1] image."""
    lit = image[..., 0] > photo_garments.LIT
    rows, columns = np.flatnonzero(lit.any(axis=1)), np.flatnonzero(lit.any(axis=0))
    return rows[-1] - rows[0] + 1, columns[-1] - columns[0] + 1


def test_refitted_garments_fill_their_frame_centred():
    small = np.zeros((1, 28, 28, 1), np.float32)
    small[0, 2:8, 1:13] = 0.9  # 6 x 12 in the upper left corner
    refitted = photo_garments.refitted(tf.constant(small)).numpy()[0]
    assert _lit_box(refitted) == (14, 28)
    rows = np.flatnonzero((refitted[..., 0] > photo_garments.LIT).any(axis=1))
    assert rows[0] == 7 and rows[-1] == 20  # centred: 7 rows above, 7 below


def test_shorts_are_shorter_and_skirts_have_no_gap_both_refitted():
    trousers = tf.constant(_trousers(8))
    trousers_height, trousers_width = _lit_box(_trousers(1)[0])
    shorts = photo_garments.shorts(trousers, [1, 2]).numpy()
    skirts = photo_garments.skirts(trousers, [3, 4]).numpy()
    for image in shorts:
        height, width = _lit_box(image)
        assert max(height, width) >= 27  # as large as its frame allows
        assert height / width <= photo_garments.SHORTS_LENGTH[1] * trousers_height / trousers_width
    for image in skirts:
        height, width = _lit_box(image)
        assert max(height, width) >= 27
        assert height / width <= photo_garments.SKIRT_LENGTH[1] * trousers_height / trousers_width
        rows = _lit_rows(image)
        middle = image[rows[len(rows) // 2], :, 0] > photo_garments.LIT
        assert middle[np.flatnonzero(middle)[0]:np.flatnonzero(middle)[-1] + 1].all()


def test_recut_bottoms_changes_bottoms_only_and_only_when_asked():
    trousers = tf.constant(_trousers(6))
    is_bottom = tf.constant([True, True, True, False, False, False])
    off = photo_render.PhotoConfig(shorts=0.0, skirt=0.0, legs_apart=0.0)
    np.testing.assert_array_equal(
        photo_garments.recut_bottoms(trousers, is_bottom, [1, 1], off), trousers)
    for config in (photo_render.PhotoConfig(shorts=1.0, skirt=0.0),
                   photo_render.PhotoConfig(shorts=0.0, skirt=1.0),
                   photo_render.PhotoConfig(shorts=0.0, skirt=0.0, legs_apart=1.0)):
        recut = photo_garments.recut_bottoms(trousers, is_bottom, [1, 1], config).numpy()
        for image in recut[:3]:
            height, width = _lit_box(image)
            assert height / width < 26 / 16  # shorter for its width than the trousers
        np.testing.assert_array_equal(recut[3:], _trousers(3))
    skirted = photo_garments.recut_bottoms(trousers, is_bottom, [1, 1],
                                           photo_render.PhotoConfig(shorts=0.0, skirt=1.0)).numpy()
    for image in skirted[:3]:
        rows = _lit_rows(image)
        lit = image[rows[0] + 2, :, 0] > photo_garments.LIT  # below the waistband
        assert lit[np.flatnonzero(lit)[0]:np.flatnonzero(lit)[-1] + 1].all()  # the gap filled


def test_rendered_photos_show_the_recut_bottoms():
    trousers = tf.constant(_trousers(4))
    bottoms = tf.fill([4], photo_scene.BOTTOM)
    plain = dict(hanger=0.0, worn=0.0, texture=0.0, grain=0.0, max_blur=0.0, max_noise=0.0,
                 jpeg_quality=(95, 95), object_fraction=(0.9, 0.9), light_on_light=0.0)

    def aspects(**config):
        """Height over width of each photo's garment."""
        photos = photo_render.render_photos(trousers, tf.constant([2, 3]),
                                            photo_render.PhotoConfig(**plain, **config),
                                            kinds=bottoms).numpy()
        contrast = np.abs(photos - photos[:, :1, :1]).max(axis=-1) > 0.2
        return np.array([np.flatnonzero(c.any(axis=1)).size / np.flatnonzero(c.any(axis=0)).size
                         for c in contrast])

    full, cut = aspects(shorts=0.0, skirt=0.0), aspects(shorts=1.0, skirt=0.0)
    assert (cut < 0.7 * full).all(), (full, cut)



def test_reshaped_bottoms_are_not_recut_again_by_the_renderer():
    trousers = tf.constant(_trousers(4))
    bottoms = tf.fill([4], photo_scene.BOTTOM)
    seeds = tf.random.experimental.stateless_split(tf.constant([3, 1], tf.int64), 16)
    config = photo_render.PhotoConfig(shorts=1.0, skirt=0.0, hanger=0.0, worn=0.0,
                                      object_fraction=(0.9, 0.9))

    def heights(reshaped):
        garments, _, _ = photo_scene.scenes(trousers, bottoms, seeds, tf.constant(56), config,
                                            tf.fill([4], reshaped))
        return np.array([np.flatnonzero((g[..., 0] > 0.5).any(axis=1)).size
                         for g in garments.numpy()])

    recut, kept = heights(False), heights(True)
    assert (kept > recut).all() and (kept >= 0.85 * 0.9 * 56).all(), (recut, kept)


def test_trousers_with_legs_apart_swing_each_leg_out_about_the_waist():
    trousers = _trousers(3)
    spread = photo_garments.legs_apart(tf.constant(trousers), [2, 5]).numpy()
    low, high = photo_garments.LEGS_APART_ANGLE
    for image in spread:
        rows = _lit_rows(image)
        upper, lower = rows[int(0.3 * rows.size)], rows[int(0.85 * rows.size)]
        thigh, hem = image[upper, :, 0], image[lower, :, 0]
        lit_hem = np.flatnonzero(hem > photo_garments.LIT)
        assert np.flatnonzero(np.diff(lit_hem) > 1).size == 1  # two legs apart at the hem
        # Each straight leg leans out by its angle: the span grows by 2 * tan(angle) per row.
        grown = (_lit_width(hem) - _lit_width(thigh)) / 2 / (lower - upper)
        assert np.tan(np.radians(low)) - 0.1 <= grown <= np.tan(np.radians(high)) + 0.1, grown
        columns = np.flatnonzero((image[..., 0] > photo_garments.LIT).any(axis=0))
        assert max(rows.size, columns.size) >= 27  # refitted


def _pullovers(count: int = 3) -> np.ndarray:
    """A body 12 wide from row 2 to 26 and a sleeve 4 wide down each side of it."""
    images = np.zeros((count, 28, 28, 1), np.float32)
    images[:, 2:26, 8:20] = 0.8
    images[:, 2:24, 4:8] = 0.6
    images[:, 2:24, 20:24] = 0.6
    return images


def test_tops_with_sleeves_spread_are_wider_than_tall_and_only_when_asked():
    tops = tf.constant(_pullovers(4))
    is_top = tf.constant([True, True, False, False])
    low, _ = photo_garments.SLEEVES_SPREAD_ANGLE
    spread = photo_garments.spread_tops(
        tops, is_top, [3, 4], photo_render.PhotoConfig(sleeves_spread=1.0)).numpy()
    for image in spread[:2]:
        height, width = _lit_box(image)
        # 24 high and 20 wide before; each sleeve, 20 pixels below the shoulder, swung out by
        # 45 degrees or more: at least 12 + 2 * 20 * sin(45) = 40 wide, still about 24 high.
        assert width == 28 and height / width < 24 / (12 + 40 * np.sin(np.radians(low))) + 0.05
        assert np.abs(image - image[:, ::-1]).mean() < 0.1  # both sleeves alike
    np.testing.assert_array_equal(spread[2:], _pullovers(2))
    off = photo_garments.spread_tops(tops, is_top, [3, 4],
                                     photo_render.PhotoConfig(sleeves_spread=0.0))
    np.testing.assert_array_equal(off, _pullovers(4))


def test_rendered_tops_show_their_sleeves_spread_when_asked():
    tops = tf.constant(_pullovers(4))
    seeds = tf.random.experimental.stateless_split(tf.constant([5, 1], tf.int64), 16)

    def aspects(sleeves_spread):
        config = photo_render.PhotoConfig(sleeves_spread=sleeves_spread, hanger=0.0, worn=0.0)
        garments, _, _ = photo_scene.scenes(tops, tf.fill([4], photo_scene.TOP), seeds,
                                            tf.constant(56), config)
        return np.array([np.divide(*_lit_box(g)) for g in garments.numpy()])

    assert (aspects(1.0) < 0.7).all() and (aspects(0.0) > 1.0).all()


def test_a_shoe_seen_from_above_is_symmetric_about_its_length_and_no_wider_than_a_foot():
    side_view = np.zeros((2, 28, 28, 1), np.float32)
    side_view[:, 2:26, 4:10] = 0.9  # turned a quarter: 24 long (rows), a low toe on the left
    side_view[:, 14:26, 10:22] = 0.7  # and a high heel and shaft, 18 high at the back
    above = photo_garments.seen_from_above(tf.constant(side_view), [5, 6]).numpy()[..., 0]
    low, high = photo_garments.TOP_VIEW_WIDTH
    for image in above:
        lit = image > photo_garments.LIT
        np.testing.assert_array_equal(lit, lit[:, ::-1])  # symmetric about the middle column
        widths = lit.sum(axis=1)
        assert low * 6 - 1 <= widths[5] <= high * 6 + 1  # the toe: its side view's height
        assert widths[20] <= photo_garments.TOP_VIEW_MAX_WIDTH * 24 + 1  # the shaft: capped
        assert widths[20] > widths[5]
        np.testing.assert_array_equal(lit.any(axis=1), side_view[0, :, :, 0].any(axis=1))
