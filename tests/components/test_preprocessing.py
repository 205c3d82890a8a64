"""preprocessing_fn on a handful of examples, run through tf.Transform."""

import io

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft
from PIL import Image

from imagepipe.components import features, preprocessing
from imagepipe.components.trainer import balance
from imagepipe.testing import fixtures
from tests import transform_util


def _jpeg(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).convert("RGB").save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


def test_preprocessing_fn_decodes_images_maps_labels_and_measures_classes(tmp_path):
    labels = np.array([0, 1, 2, 3, 4, 5, 6, 7, 9, 9, 1], np.uint8)
    images = fixtures.generate_images(labels, seed=3)
    transformed, output = transform_util.analyze_and_transform(
        transform_util.raw_rows(images, labels), str(tmp_path))
    image_xf = np.stack([row[features.transformed_name(features.IMAGE_KEY)]
                         for row in transformed])
    assert image_xf.shape == (11, 28, 28, 1) and image_xf.dtype == np.float32
    # Normalization is close to the identity on Fashion-MNIST-like images.
    assert np.abs(image_xf[..., 0] - images / 255.0).mean() < 0.05
    mapped = [int(row[features.transformed_name(features.LABEL_KEY)]) for row in transformed]
    assert mapped == [0, 1, 0, 0, 0, 2, 0, 2, 2, 2, 1]
    assert transformed[3][features.transformed_name(features.EXAMPLE_ID_KEY)] == b"id3"
    assert balance.read_class_counts(output) == {0: 5, 1: 2, 2: 4}


def test_colour_jpeg_of_another_size_becomes_28x28_gray():
    photo = np.zeros((60, 40, 3), np.uint8)
    photo[10:50, 10:30] = (200, 100, 50)
    decoded = preprocessing.decode_images(tf.constant([_jpeg(photo)])).numpy()
    assert decoded.shape == (1, 28, 28, 1)
    assert 0.0 <= decoded.min() and decoded.max() <= 1.0
    assert decoded[0, 14, 14, 0] > 0.3  # the object, not the padding


def test_labels_outside_the_table_are_unmapped():
    mapped = preprocessing.map_labels(tf.constant([[-1], [10], [7]], tf.int64)).numpy()
    assert mapped.tolist() == [features.UNMAPPED_CLASS, features.UNMAPPED_CLASS, 2]


def test_transform_analysis_reads_only_the_labels():
    # A stateful op in the decoding function (tf.image.pad_to_bounding_box's asserts) kept it from
    # being pruned: the analysis, which only counts classes, read and decoded every image.
    specs = {features.IMAGE_KEY: tf.TensorSpec([None, 1], tf.string),
             features.LABEL_KEY: tf.TensorSpec([None, 1], tf.int64),
             features.EXAMPLE_ID_KEY: tf.TensorSpec([None, 1], tf.string)}
    assert tft.get_analyze_input_columns(preprocessing.preprocessing_fn, specs,
                                         force_tf_compat_v1=False) == [features.LABEL_KEY]
