"""preprocessing_fn on a handful of examples."""

import io

import numpy as np
import tensorflow as tf
from PIL import Image

from imagepipe.components import features, ingest, preprocessing
from imagepipe.data import fixtures


def _jpeg(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).convert("RGB").save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


def test_preprocessing_fn_decodes_images_and_maps_labels():
    images, labels = fixtures.labelled_images(num_per_label=1)
    inputs = {
        features.IMAGE_KEY: tf.constant([[ingest.encode_png(im)] for im in images]),
        features.LABEL_KEY: tf.constant([[int(label)] for label in labels], tf.int64),
        features.EXAMPLE_ID_KEY: tf.constant([[f"id{i}"] for i in range(10)]),
    }
    outputs = preprocessing.preprocessing_fn(inputs)
    image_xf = outputs[features.transformed_name(features.IMAGE_KEY)].numpy()
    assert image_xf.shape == (10, 28, 28, 1) and image_xf.dtype == np.float32
    np.testing.assert_allclose(image_xf[..., 0], images / 255.0, atol=1e-6)
    assert outputs[features.transformed_name(features.LABEL_KEY)].numpy().tolist() == [
        0, 1, 0, 0, 0, 2, 0, 2, features.UNMAPPED_CLASS, 2]
    assert outputs[features.transformed_name(features.EXAMPLE_ID_KEY)].numpy()[3] == b"id3"


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
