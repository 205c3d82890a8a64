"""Stateless image augmentation."""

import numpy as np
import tensorflow as tf

from imagepipe.components import augment
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
