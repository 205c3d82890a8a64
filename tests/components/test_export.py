"""The exported model carries its weights, not the optimizer's state, and serves the same."""

import os

import numpy as np
import pytest
import tensorflow as tf

from imagepipe.components import features, models
from imagepipe.components.trainer import export, task
from imagepipe.testing import fixtures
from tests import transform_util

IMAGE_XF = features.transformed_name(features.IMAGE_KEY)


def _folder_bytes(path: str) -> int:
    return sum(os.path.getsize(os.path.join(root, name))
               for root, _, names in os.walk(path) for name in names)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """arch5 after an epoch of Adam (two slots per weight), exported, with its transform."""
    images, labels = fixtures.labelled_images(num_per_label=2)
    transformed, transform_output = transform_util.analyze_and_transform(
        transform_util.raw_rows(images, labels), str(tmp_path_factory.mktemp("transform")))
    spec = models.ModelSpec(input_shape=(28, 28, 1), num_classes=3, input_name=IMAGE_XF)
    model = task.compile_model(models.build("arch5", spec), learning_rate=1e-3)
    keep = labels != 8  # a label the super-class table leaves out
    x = np.stack([row[IMAGE_XF] for row in transformed])[keep]
    y = np.asarray(features.class_map_table())[labels[keep]]
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    export_dir = str(tmp_path_factory.mktemp("export") / "model")
    export.export_model(model, transform_output, features.SUPER_CLASS_NAMES, export_dir)
    return model, export_dir, images[keep], x


def test_the_variables_are_the_weights_without_the_optimizer_state(trained):
    model, export_dir, _, _ = trained
    weights = sum(int(np.prod(w.shape)) * 4 for w in model.weights)
    slots = sum(int(np.prod(v.shape)) * 4 for v in model.optimizer.variables())
    assert slots >= 2 * weights  # what the export used to carry besides the weights
    variables = _folder_bytes(os.path.join(export_dir, "variables"))
    assert weights <= variables <= 1.1 * weights + 64 * 1024, (variables, weights)


def test_the_serving_signature_answers_as_the_trained_model(trained):
    model, export_dir, images, x = trained
    loaded = tf.saved_model.load(export_dir)
    serving = loaded.signatures[features.SERVING_SIGNATURE]
    assert list(serving.structured_input_signature[1]) == [features.SERVING_INPUT_KEY]
    assert set(serving.structured_outputs) == {features.CLASS_IDS_OUTPUT,
                                               features.CLASS_NAMES_OUTPUT,
                                               features.PROBABILITIES_OUTPUT}
    from imagepipe.data import png  # pylint: disable=g-import-not-at-top
    served = serving(**{features.SERVING_INPUT_KEY: tf.constant(
        [png.encode_gray(image) for image in images])})
    expected = tf.nn.softmax(model(x, training=False)).numpy()
    np.testing.assert_allclose(served[features.PROBABILITIES_OUTPUT].numpy(), expected,
                               atol=1e-5)
