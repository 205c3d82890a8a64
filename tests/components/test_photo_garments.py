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
    off = photo_render.PhotoConfig(shorts=0.0, skirt=0.0)
    np.testing.assert_array_equal(
        photo_garments.recut_bottoms(trousers, is_bottom, [1, 1], off), trousers)
    for config in (photo_render.PhotoConfig(shorts=1.0, skirt=0.0),
                   photo_render.PhotoConfig(shorts=0.0, skirt=1.0)):
        recut = photo_garments.recut_bottoms(trousers, is_bottom, [1, 1], config).numpy()
        for image in recut[:3]:
            assert len(_lit_rows(image)) < 26
        np.testing.assert_array_equal(recut[3:], _trousers(3))
    skirted = photo_garments.recut_bottoms(trousers, is_bottom, [1, 1],
                                           photo_render.PhotoConfig(shorts=0.0, skirt=1.0)).numpy()
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

    full, cut = heights(shorts=0.0, skirt=0.0), heights(shorts=1.0, skirt=0.0)
    assert (cut < 0.7 * full).all(), (full, cut)

