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


def test_shorts_are_shorter_and_skirts_have_no_gap():
    trousers = tf.constant(_trousers(8))
    shorts = photo_garments.shorts(trousers, [1, 2]).numpy()
    skirts = photo_garments.skirts(trousers, [3, 4]).numpy()
    low, high = photo_garments.SHORTS_LENGTH
    for image in shorts:
        assert low * 26 - 1 <= len(_lit_rows(image)) <= high * 26 + 1
    for image in skirts:
        rows = _lit_rows(image)
        assert len(rows) <= photo_garments.SKIRT_LENGTH[1] * 26 + 1
        middle = image[rows[len(rows) // 2], :, 0] > photo_garments.LIT
        assert middle[np.flatnonzero(middle)[0]:np.flatnonzero(middle)[-1] + 1].all()


def test_recut_bottoms_changes_bottoms_only_and_only_when_asked():
    trousers = tf.constant(_trousers(6))
    is_bottom = tf.constant([True, True, True, False, False, False])
    off = photo_render.PhotoConfig()
    np.testing.assert_array_equal(
        photo_garments.recut_bottoms(trousers, is_bottom, [1, 1], off), trousers)
    for config in (photo_render.PhotoConfig(shorts=1.0), photo_render.PhotoConfig(skirt=1.0)):
        recut = photo_garments.recut_bottoms(trousers, is_bottom, [1, 1], config).numpy()
        for image in recut[:3]:
            assert len(_lit_rows(image)) < 26
        np.testing.assert_array_equal(recut[3:], _trousers(3))
    skirted = photo_garments.recut_bottoms(trousers, is_bottom, [1, 1],
                                           photo_render.PhotoConfig(skirt=1.0)).numpy()
    assert (skirted[:3, 6, 13:17] > photo_garments.LIT).all()  # the gap filled


def test_rendered_photos_show_the_recut_bottoms():
    trousers = tf.constant(_trousers(4))
    bottoms = tf.fill([4], photo_scene.BOTTOM)
    plain = dict(hanger=0.0, worn=0.0, texture=0.0, grain=0.0, max_blur=0.0, max_noise=0.0,
                 jpeg_quality=(95, 95), object_fraction=(0.9, 0.9), light_on_light=0.0)

    def heights(**config):
        photos = photo_render.render_photos(trousers, tf.constant([2, 3]),
                                            photo_render.PhotoConfig(**plain, **config),
                                            kinds=bottoms).numpy()
        contrast = np.abs(photos - photos[:, :1, :1]).max(axis=-1) > 0.2
        return np.array([np.flatnonzero(c.any(axis=1)).size for c in contrast])

    full, cut = heights(), heights(shorts=1.0)
    assert (cut < 0.7 * full).all(), (full, cut)


def _shoe_axes(tilt: float, splay: float) -> np.ndarray:
    """Per photo of a pair of bars: the left and the right shoe's long axis, degrees from upright."""
    bar = np.zeros((8, 28, 28, 1), np.float32)
    bar[:, 10:18, 2:26] = 1.0  # a side view: long and low, upright once turned a quarter
    seeds = tf.random.experimental.stateless_split(tf.constant([7, 1], tf.int64), 16)
    config = photo_render.PhotoConfig(pair=1.0, worn=0.0, pair_tilt=tilt, pair_splay=splay)
    alpha, _, _ = photo_scene.scenes(tf.constant(bar), tf.fill([8], photo_scene.SHOE), seeds,
                                     tf.constant(120), config)
    axes = []
    for mask in alpha.numpy()[..., 0] > 0.5:
        ys, xs = np.nonzero(mask)
        middle = (xs.min() + xs.max()) / 2.0
        shoe_axes = []
        for side in (xs < middle, xs >= middle):
            y, x = ys[side] - ys[side].mean(), xs[side] - xs[side].mean()
            # The angle of the principal axis from the vertical, clockwise positive.
            shoe_axes.append(np.degrees(0.5 * np.arctan2(-2.0 * (x * y).mean(),
                                                         (y * y).mean() - (x * x).mean())))
        axes.append(shoe_axes)
    return np.array(axes)


def test_pairs_may_be_tilted_and_splayed():
    upright = _shoe_axes(0.0, 0.0)
    assert np.abs(upright).max() < 3.0
    tilted = _shoe_axes(40.0, 0.0)
    np.testing.assert_allclose(tilted[:, 0], tilted[:, 1], atol=4.0)  # both shoes alike
    assert np.abs(tilted).mean() > 10.0 and np.abs(tilted).max() <= 42.0
    splayed = _shoe_axes(0.0, 30.0)
    np.testing.assert_allclose(splayed[:, 0], -splayed[:, 1], atol=4.0)  # mirror images
    assert np.abs(splayed).mean() > 7.0


def test_shoes_from_above_are_centred_and_symmetric():
    side_view = np.zeros((2, 28, 28, 1), np.float32)
    side_view[:, 2:26, 4:10] = 1.0  # an upright sole, left of centre
    side_view[:, 2:12, 10:14] = 0.5  # the upper, on one side only
    above = photo_scene.from_above(tf.constant(side_view)).numpy()[..., 0]
    np.testing.assert_allclose(above, above[:, :, ::-1], atol=1e-6)
    lit = np.flatnonzero((above[0] > 0.3).any(axis=0))
    assert abs((lit[0] + lit[-1]) / 2.0 - 13.5) <= 0.5 and lit.size == 10  # centred
    assert above[0, 5, lit[0]] > 0.3 and above[0, 5, lit[-1]] > 0.3  # the upper on both sides


def test_pairs_from_above_only_when_asked():
    shoe = np.zeros((4, 28, 28, 1), np.float32)
    shoe[:, 10:18, 2:26] = 1.0
    shoe[:, 6:10, 2:12] = 0.8  # a heel counter: the side view is not symmetric
    seeds = tf.random.experimental.stateless_split(tf.constant([3, 1], tf.int64), 16)

    def coverage(**config):
        alpha, _, _ = photo_scene.scenes(tf.constant(shoe), tf.fill([4], photo_scene.SHOE), seeds,
                                         tf.constant(80), photo_render.PhotoConfig(
                                             pair=1.0, worn=0.0, **config))
        return alpha.numpy()

    side, above = coverage(), coverage(pair_from_above=1.0)
    assert (above.sum(axis=(1, 2, 3)) > 1.2 * side.sum(axis=(1, 2, 3))).all()
