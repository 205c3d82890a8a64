"""Stateless image augmentation."""

import numpy as np
import tensorflow as tf

from imagepipe.components import augment, photo_render, photo_scene
from imagepipe.testing import fixtures


def _image():
    images, _ = fixtures.labelled_images(num_per_label=1)
    return tf.constant(images[5][..., None].astype(np.float32) / 255.0)


def test_same_seed_same_copy_other_seed_other_copy():
    image = _image()
    first = augment.augment_image(image, tf.constant([1, 2])).numpy()
    again = augment.augment_image(image, tf.constant([1, 2])).numpy()
    other = augment.augment_image(image, tf.constant([3, 4])).numpy()
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)
    assert not np.allclose(first, image.numpy())
    assert first.shape == (28, 28, 1) and 0.0 <= first.min() and first.max() <= 1.0


def test_without_modifications_the_image_is_unchanged():
    identity = augment.AugmentConfig(flip=False, max_rotation=0.0, max_shift=0.0, max_zoom=0.0,
                                     max_brightness=0.0, contrast_range=(1.0, 1.0))
    image = _image()
    np.testing.assert_allclose(augment.augment_image(image, tf.constant([1, 2]), identity),
                               image, atol=1e-5)


def test_rotation_by_a_quarter_turn_is_a_quarter_turn():
    quarter = augment.AugmentConfig(flip=False, max_rotation=0.25, max_shift=0.0, max_zoom=0.0,
                                    max_brightness=0.0, contrast_range=(1.0, 1.0))
    image = np.zeros((9, 9, 1), np.float32)
    image[0, 4, 0] = 1.0  # top centre
    for seed in range(20):  # find seeds that drew nearly ±90 degrees
        angle_seed = tf.random.experimental.stateless_split(
            tf.random.experimental.stateless_split(tf.constant([seed, 0], tf.int64), 4)[1], 4)[0]
        turn = float(tf.random.stateless_uniform([], angle_seed, -0.25, 0.25))
        if abs(abs(turn) - 0.25) < 0.01:
            out = augment.augment_image(tf.constant(image), tf.constant([seed, 0]), quarter)
            y, x = np.unravel_index(np.argmax(out.numpy()[..., 0]), (9, 9))
            assert (y, x) in ((4, 0), (4, 8))  # moved to a side centre
            return
    raise AssertionError("no seed drew a quarter turn")  # pragma: no cover


def test_report_augmentation_layers_only_act_in_training():
    layers = augment.augmentation_layers(seed=1)
    batch = tf.constant(np.random.default_rng(0).random((2, 16, 16, 3)), tf.float32)
    np.testing.assert_array_equal(layers(batch, training=False), batch)
    assert [type(l).__name__ for l in layers.layers] == ["RandomFlip", "RandomRotation"]


# Photos without texture, grain, blur, noise or visible JPEG loss: what is left is measurable.
PLAIN = dict(texture=0.0, grain=0.0, max_blur=0.0, max_noise=0.0, jpeg_quality=(95, 95))


def _sources(count: int = 6) -> tf.Tensor:
    images = fixtures.generate_images(np.arange(count) % 10, seed=4)
    return tf.constant(images[..., None].astype(np.float32) / 255.0)


def test_rendered_photos_are_reproducible_and_drawn_per_photo():
    sources = _sources()
    photos = photo_render.render_photos(sources, tf.constant([1, 2])).numpy()
    np.testing.assert_array_equal(photos, photo_render.render_photos(sources, tf.constant([1, 2])))
    other = photo_render.render_photos(sources, tf.constant([3, 4])).numpy()
    assert photos.shape != other.shape or not np.allclose(photos, other)
    side = photos.shape[1]
    config = photo_render.PhotoConfig()
    assert photos.shape == (6, side, side, 3) and config.canvas[0] <= side <= config.canvas[1]
    assert 0.0 <= photos.min() and photos.max() <= 1.0
    # Backgrounds, colours and placements are drawn per photo: the same source twice differs.
    twice = photo_render.render_photos(tf.stack([sources[0], sources[0]]), tf.constant([1, 2])).numpy()
    assert np.abs(twice[0] - twice[1]).mean() > 0.02


def test_the_object_lies_inside_the_canvas_at_its_scale():
    config = photo_render.PhotoConfig(object_fraction=(0.5, 0.5), light_on_light=0.0,
                                 **PLAIN)
    square = np.zeros((1, 28, 28, 1), np.float32)
    square[0, 4:24, 4:24] = 1.0
    for seed in range(5):
        photo = photo_render.render_photos(tf.constant(square), tf.constant([seed, 9]), config)[0]
        photo = photo.numpy()
        side = photo.shape[0]
        corner = photo[0, 0]
        differs = np.abs(photo - corner).max(axis=-1) > 0.2
        rows, cols = np.flatnonzero(differs.any(axis=1)), np.flatnonzero(differs.any(axis=0))
        object_side = max(8, int(side * 0.5))
        # The square covers 20/28 of the object's side: the photo shows it at that size.
        expected = 20 / 28 * object_side
        assert abs((rows[-1] - rows[0] + 1) - expected) <= 2
        assert abs((cols[-1] - cols[0] + 1) - expected) <= 2


def test_one_photo_is_a_batch_of_one():
    source = _sources(1)[0]
    np.testing.assert_array_equal(photo_render.render_photo(source, tf.constant([5, 6])),
                                  photo_render.render_photos(source[None], tf.constant([5, 6]))[0])


def _render(images: np.ndarray, seed: int, kinds=None, **config) -> np.ndarray:
    return photo_render.render_photos(tf.constant(images), tf.constant([seed, 1]),
                                 photo_render.PhotoConfig(**{**PLAIN, **config}),
                                 kinds=kinds).numpy()


def test_grain_draws_waves_across_the_background():
    empty = np.zeros((4, 28, 28, 1), np.float32)
    for seed in range(3):
        plain = _render(empty, seed, grain=0.0)
        grained = _render(empty, seed, grain=1.0)
        # Along a row, uneven light is constant: only grain varies there.
        assert plain.std(axis=2).max() < 0.01
        assert grained.std(axis=2).mean() > 0.02


def test_light_on_light_objects_are_a_little_darker_than_their_background():
    square = np.zeros((8, 28, 28, 1), np.float32)
    square[:, 6:22, 6:22] = 1.0
    # Dark objects on light backgrounds differ by at least (0.7 - 0.35) x the dimmest light, 0.8.
    for light_on_light, (least, most) in ((1.0, (0.08, 0.15)), (0.0, (0.27, 1.0))):
        photos = _render(square, 3, light_background=1.0, light_on_light=light_on_light,
                         low_contrast=(0.1, 0.15), object_fraction=(0.5, 0.5))
        for photo in photos:
            # Uneven light is constant along a row: a row's spread is the object's contrast.
            lightness = photo.mean(axis=-1)
            spread = (lightness.max(axis=1) - lightness.min(axis=1)).max()
            assert least <= spread <= most + 0.02  # JPEG ringing


def _dark_runs(row: np.ndarray) -> int:
    """The number of separate runs of True in a 1-D bool array."""
    return int(np.sum(row[1:] & ~row[:-1]) + row[0])


def _dark_extent(photo: np.ndarray):
    """(height, width) of the dark pixels of a photo of a dark object on a light background."""
    dark = photo.mean(axis=-1) < 0.5
    rows, columns = np.flatnonzero(dark.any(axis=1)), np.flatnonzero(dark.any(axis=0))
    return rows[-1] - rows[0] + 1, columns[-1] - columns[0] + 1


def test_shoes_may_be_shown_as_a_pair_from_above_side_by_side():
    bar = np.zeros((6, 28, 28, 1), np.float32)
    bar[:, 2:26, 10:18] = 1.0  # a side view, long and low once turned a quarter
    shoes = tf.fill([6], photo_scene.SHOE)
    # Apart (a gap of 10-25% of a shoe's width), overlapping (-10%), or a single shoe.
    for pair, gap, runs in ((1.0, (0.1, 0.25), 2), (1.0, (-0.1, -0.1), 1), (0.0, (0.1, 0.25), 1)):
        photos = _render(bar, 5, kinds=shoes, pair=pair, worn=0.0, light_background=1.0,
                         light_on_light=0.0, max_blur=0.0, pair_gap=gap, top_view=0.0)
        for photo in photos:
            dark = photo.mean(axis=-1) < 0.5
            middle = dark[np.flatnonzero(dark.any(axis=1))].any(axis=0)
            assert _dark_runs(middle) == runs
    # A shoe 6 pixels wide seen from above: the pair is set apart by the shoes' width, not by
    # their frames (which would leave 22 pixels between them): together 1.9 to 2.25 shoes wide,
    # give or take a pixel's rounding.
    narrow = np.zeros((6, 28, 28, 1), np.float32)
    narrow[:, 11:17, 4:24] = 1.0  # 20 long and 6 high; turned, 6 wide
    for photo in _render(narrow, 7, kinds=shoes, pair=1.0, worn=0.0, light_background=1.0,
                         light_on_light=0.0, max_blur=0.0, jpeg_quality=(95, 95), top_view=0.0):
        height, width = _dark_extent(photo)
        shoe_width = height * 6 / 20
        assert 1.8 * shoe_width <= width <= 2.35 * shoe_width, (height, width)


def test_a_class_of_no_known_kind_is_never_staged():
    bar = np.zeros((6, 28, 28, 1), np.float32)
    bar[:, 2:26, 10:18] = 1.0
    staged = dict(pair=1.0, hanger=1.0, worn=1.0)
    np.testing.assert_array_equal(_render(bar, 5, kinds=tf.fill([6], photo_scene.NO_KIND), **staged),
                                  _render(bar, 5, **staged))


def _held_rows(kind: int, **config) -> np.ndarray:
    """Per photo: [rows above, rows below] a garment square where what holds it shows.

    From the scene of :func:`photo_render.render_photos`: the garment's coverage and
    its holder's (a hanger, a body) where the garment does not cover it.
    """
    square = np.zeros((6, 28, 28, 1), np.float32)
    square[:, 4:24, 4:24] = 1.0
    seeds = tf.random.experimental.stateless_split(tf.constant([9, 1], tf.int64), 16)
    garments, holders, _ = photo_scene.scenes(
        tf.constant(square), tf.fill([6], kind), seeds, tf.constant(60),
        photo_render.PhotoConfig(**config))
    counts = []
    for garment, holder in zip(garments.numpy()[..., 0], holders.numpy()[..., 0]):
        rows = np.flatnonzero((garment > 0.5).any(axis=1))
        shown = ((holder > 0.5) & (garment < 0.5)).any(axis=1)
        counts.append([shown[:rows[0]].sum(), shown[rows[-1] + 1:].sum()])
    return np.array(counts)


def test_tops_and_bottoms_may_hang_on_a_hanger_above_them():
    for kind in (photo_scene.TOP, photo_scene.BOTTOM):
        hung = _held_rows(kind, hanger=1.0, worn=0.0)
        plain = _held_rows(kind, hanger=0.0, worn=0.0)
        assert (hung[:, 0] >= 3).all() and (plain[:, 0] == 0).all(), (hung, plain)
    shoes = _held_rows(photo_scene.SHOE, hanger=1.0, pair=0.0, worn=0.0)
    assert (shoes == 0).all()  # shoes never hang


def test_worn_garments_show_the_body_where_it_is():
    above = {photo_scene.TOP: 0, photo_scene.BOTTOM: 1, photo_scene.SHOE: 0}
    for kind, side in above.items():
        worn = _held_rows(kind, hanger=0.0, pair=0.0, worn=1.0)
        # A head above a top, legs below a bottom, an ankle above a shoe; nothing elsewhere.
        assert (worn[:, side] >= 3).all() and (worn[:, 1 - side] == 0).all(), (kind, worn)


def test_garment_kinds_follow_the_class_names():
    assert photo_scene.garment_kinds(["upper", "lower", "shoes"]) == (
        photo_scene.TOP, photo_scene.BOTTOM, photo_scene.SHOE)
    assert photo_scene.garment_kinds(["pens", "shoes"]) == (photo_scene.NO_KIND, photo_scene.SHOE)


def test_top_view_draws_each_shoe_of_a_pair_symmetric_about_its_length():
    side_view = np.zeros((4, 28, 28, 1), np.float32)
    side_view[:, 8:14, 2:26] = 1.0  # a long, low sole
    side_view[:, 2:8, 16:26] = 1.0  # and a shaft at the heel: lopsided once turned
    seeds = tf.random.experimental.stateless_split(tf.constant([3, 1], tf.int64), 16)

    def first_shoes(top_view: float):
        garments, _, _ = photo_scene.scenes(
            tf.constant(side_view), tf.fill([4], photo_scene.SHOE), seeds, tf.constant(84),
            photo_render.PhotoConfig(pair=1.0, worn=0.0, top_view=top_view, pair_gap=(0.3, 0.3)))
        for garment in garments.numpy()[..., 0] > 0.5:
            columns = np.flatnonzero(garment.any(axis=0))
            gap = np.flatnonzero(np.diff(columns) > 1)[0]  # the columns between the shoes
            yield garment[:, columns[0]:columns[gap] + 1]

    def asymmetry(shoe: np.ndarray) -> float:
        return float(np.mean(shoe != shoe[:, ::-1]))

    assert all(asymmetry(shoe) < 0.05 for shoe in first_shoes(1.0))
    assert all(asymmetry(shoe) > 0.2 for shoe in first_shoes(0.0))


def test_a_pair_drawn_as_an_image_shows_two_shoes_fitted_to_the_frame():
    bar = np.zeros((4, 28, 28, 1), np.float32)
    bar[:, 2:26, 10:18] = 1.0
    for gap, runs in (((0.1, 0.25), 2), ((-0.1, -0.1), 1)):
        config = photo_render.PhotoConfig(pair_gap=gap, top_view=0.0)
        images = photo_scene.pair_images(tf.constant(bar), [4, 2], config).numpy()[..., 0]
        assert images.shape == (4, 28, 28)
        for image in images > 0.5:
            rows, columns = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
            assert max(rows[-1] - rows[0], columns[-1] - columns[0]) >= 26  # fitted, not a patch
            assert _dark_runs(image[rows[rows.size // 2]]) == runs
