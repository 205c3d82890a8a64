"""Prints on rendered garments: patterns in a second colour, only where asked, only on the garment."""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf

from imagepipe.components import photo_prints, photo_render
from imagepipe.components.photo_scene import TOP

SEED = tf.constant([5, 9])


def test_every_pattern_covers_part_of_its_canvas_and_repeats_with_its_seed():
    masks = photo_prints.pattern_masks(SEED, tf.constant(40), 48).numpy()
    covered = masks.mean(axis=(1, 2))
    assert masks.shape == (40, 48, 48)
    assert np.all(covered > 0.0) and np.all(covered < 1.0)
    assert len({round(float(c), 3) for c in covered}) > 30  # kinds and scales vary per canvas
    np.testing.assert_array_equal(masks, photo_prints.pattern_masks(SEED, tf.constant(40), 48))


def test_a_printed_object_has_two_colours_one_of_them_its_own():
    colour = tf.constant([[0.9, 0.1, 0.1]] * 16)
    base = tf.constant([[0.8, 0.8, 0.8]] * 16)
    printed = photo_prints.print_colours(SEED, colour, base, 32, share=1.0).numpy()
    for canvas in printed:
        distinct = np.unique(canvas.reshape(-1, 3), axis=0)
        assert len(distinct) == 2
        assert any(np.allclose(c, [0.9, 0.1, 0.1]) for c in distinct)
    plain = photo_prints.print_colours(SEED, colour, base, 32, share=0.0).numpy()
    np.testing.assert_allclose(plain, np.broadcast_to([0.9, 0.1, 0.1], plain.shape))


def test_half_the_second_colours_are_near_the_background():
    count = 400
    colour = tf.zeros([count, 3])
    base = tf.fill([count, 3], 0.5)
    printed = photo_prints.print_colours(SEED, colour, base, 24, share=1.0).numpy()
    second = printed.reshape(count, -1, 3).max(axis=1)  # the object's own colour is black
    near = np.all(np.abs(second - 0.5) <= photo_prints.NEAR_BACKGROUND_SPREAD + 1e-6, axis=1)
    assert abs(near.mean() - photo_prints.NEAR_BACKGROUND) < 0.1


def test_the_renderer_prints_the_garment_and_leaves_the_rest_of_the_photo_alone():
    image = np.zeros([6, 28, 28, 1], np.float32)
    image[:, 4:24, 6:22] = 1.0  # a lit block: every object pixel fully the garment's colour
    images, kinds = tf.constant(image), tf.fill([6], TOP)
    config = dataclasses.replace(photo_render.PhotoConfig(), max_noise=0.0, max_blur=0.0,
                                 jpeg_quality=(100, 100), hanger=0.0, worn=0.0,
                                 sleeves_spread=0.0)
    plain = photo_render.render_photos(images, SEED, config, kinds).numpy()
    printed = photo_render.render_photos(
        images, SEED, dataclasses.replace(config, prints=1.0), kinds).numpy()
    empty = photo_render.render_photos(tf.zeros_like(images), SEED, config, kinds).numpy()
    garment = np.abs(plain - empty).max(axis=-1) > 0.02
    changed = np.abs(printed - plain).max(axis=-1) > 0.05
    assert changed.any(axis=(1, 2)).sum() >= 5  # a second colour may be near the garment's own
    # Only the garment changed (JPEG at quality 100 may move a pixel beside it a little).
    assert (changed & ~garment).mean() < 0.005
    assert changed.mean() < 0.5
