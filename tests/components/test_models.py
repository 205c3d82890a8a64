"""Every registered model builds, trains a step, exports with the three signatures and reloads."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform as tft

from imagepipe.components import features, models
from imagepipe.components.ingest.examples import make_example
from imagepipe.data import png
from imagepipe.components.trainer import export, task
from imagepipe.testing import fixtures
from tests import transform_util

IMAGE_XF = features.transformed_name(features.IMAGE_KEY)
# Options that keep each model small enough for a CPU test.
TEST_OPTIONS = {"resnet50": models.ModelOptions(input_size=32),
                "efficientnet_lite0": models.ModelOptions(input_size=32)}


@pytest.fixture(scope="module")
def transform_output(tmp_path_factory) -> tft.TFTransformOutput:
    """A real transform graph of preprocessing_fn, analysed by tf.Transform on a few images."""
    images, labels = fixtures.labelled_images(num_per_label=2)
    _, output = transform_util.analyze_and_transform(
        transform_util.raw_rows(images, labels), str(tmp_path_factory.mktemp("transform")))
    return output
# efficientnet_lite2 is exported inside efficientnet_lite0_lite2 (each costs minutes on 2 cores).
EXPORTED = [name for name in models.names() if name != "efficientnet_lite2"]


@pytest.mark.parametrize("name", EXPORTED)
def test_model_builds_trains_exports_and_reloads(name, transform_output, tmp_path):
    spec = models.ModelSpec(input_shape=(28, 28, 1), num_classes=3, input_name=IMAGE_XF,
                            options=TEST_OPTIONS.get(name, models.ModelOptions()))
    model = task.compile_model(models.build(name, spec), learning_rate=1e-3)
    assert model.output_shape == (None, 3)
    assert model.layers[-1].activation.__name__ == "linear"  # logits, not the report's relu
    images, labels = fixtures.labelled_images(num_per_label=4)
    keep = labels != 8
    x = images[keep][..., None].astype(np.float32) / 255.0
    y = np.asarray(features.class_map_table())[labels[keep]]
    before = model.get_weights()[0].copy()
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert not np.allclose(before, model.get_weights()[0])

    export_dir = str(tmp_path / "export")
    export.export_model(model, transform_output, features.SUPER_CLASS_NAMES, export_dir)
    loaded = tf.saved_model.load(export_dir)
    assert set(loaded.signatures) == {features.SERVING_SIGNATURE,
                                      features.FROM_EXAMPLES_SIGNATURE,
                                      features.BULK_INFERENCE_SIGNATURE,
                                      features.TRANSFORM_SIGNATURE,
                                      features.LABELS_SIGNATURE,
                                      features.NORMALIZED_SIGNATURE,
                                      features.CLASS_NAMES_SIGNATURE}
    names = loaded.signatures[features.CLASS_NAMES_SIGNATURE]()[features.CLASS_NAMES_OUTPUT]
    assert [name.decode() for name in names.numpy()] == list(features.SUPER_CLASS_NAMES)
    examples = [make_example(im, int(lb), f"id{i}").SerializeToString()
                for i, (im, lb) in enumerate(zip(images[keep], labels[keep]))]
    transformed = loaded.signatures[features.TRANSFORM_SIGNATURE](examples=tf.constant(examples))
    np.testing.assert_array_equal(
        transformed[features.transformed_name(features.LABEL_KEY)].numpy(), y)
    labels_only = loaded.signatures[features.LABELS_SIGNATURE](examples=tf.constant(examples))
    assert list(labels_only) == [features.transformed_name(features.LABEL_KEY)]
    np.testing.assert_array_equal(labels_only[features.transformed_name(features.LABEL_KEY)], y)
    # Serving = the Keras model applied to what the exported Transform makes of the bytes.
    expected = tf.nn.softmax(model(transformed[IMAGE_XF], training=False)).numpy()

    encoded = [png.encode_gray(im) for im in images[keep]]
    served = loaded.signatures[features.SERVING_SIGNATURE](
        **{features.SERVING_INPUT_KEY: tf.constant(encoded)})
    np.testing.assert_allclose(served[features.PROBABILITIES_OUTPUT].numpy(), expected,
                               atol=1e-5)
    # What the model saw: the same pixels the Transform gives the training examples.
    seen = loaded.signatures[features.NORMALIZED_SIGNATURE](
        **{features.SERVING_INPUT_KEY: tf.constant(encoded)})[features.NORMALIZED_OUTPUT]
    np.testing.assert_allclose(seen.numpy(), transformed[IMAGE_XF].numpy(), atol=1e-6)
    ids = served[features.CLASS_IDS_OUTPUT].numpy()
    np.testing.assert_array_equal(ids, expected.argmax(axis=1))
    names = [n.decode() for n in served[features.CLASS_NAMES_OUTPUT].numpy()]
    assert names == [features.SUPER_CLASS_NAMES[i] for i in ids]
    # BulkInferrer's: from_examples' numbers, no string output.
    bulk = loaded.signatures[features.BULK_INFERENCE_SIGNATURE](examples=tf.constant(examples))
    assert set(bulk) == {features.CLASS_IDS_OUTPUT, features.PROBABILITIES_OUTPUT}
    np.testing.assert_allclose(bulk[features.PROBABILITIES_OUTPUT].numpy(), expected, atol=1e-5)
    np.testing.assert_array_equal(bulk[features.CLASS_IDS_OUTPUT].numpy(), ids)

    from_examples = loaded.signatures[features.FROM_EXAMPLES_SIGNATURE](
        examples=tf.constant(examples))
    np.testing.assert_allclose(from_examples[features.PROBABILITIES_OUTPUT].numpy(), expected,
                               atol=1e-5)


def test_unknown_model_lists_the_known_ones():
    with pytest.raises(models.UnknownModelError, match="unknown model 'arch99'; known models: "
                                                       ".*arch5.*proposed"):
        models.get("arch99")


def test_report_layers_of_arch5_and_proposed():
    spec = models.ModelSpec(input_shape=(28, 28, 1), num_classes=3, input_name=IMAGE_XF)
    arch5 = [type(l).__name__ for l in models.build("arch5", spec).layers[1:]]
    assert arch5 == ["Conv2D", "MaxPooling2D", "Conv2D", "AveragePooling2D", "Conv2D",
                     "Flatten", "Dropout", "Dense", "Dense"]
    proposed = [type(l).__name__ for l in models.build("proposed", spec).layers[1:]]
    assert proposed == ["Conv2D", "MaxPooling2D", "Dropout", "Conv2D", "AveragePooling2D",
                        "BatchNormalization", "Dropout", "Conv2D", "AveragePooling2D",
                        "Flatten", "Dense", "Dense"]
    arch10 = [type(l).__name__ for l in models.build("arch10", spec).layers[1:]]
    assert arch10 == [n for n in proposed if n != "Dropout"]


def test_arch4_is_a_declared_stand_in():
    spec = models.ModelSpec(input_shape=(28, 28, 1), num_classes=3, input_name=IMAGE_XF)
    layers = [type(l).__name__ for l in models.build("arch4", spec).layers[1:]]
    assert layers == ["Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Flatten", "Dense",
                      "Dropout", "Dense"]
    assert "STAND-IN" in models.get("arch4").__doc__


def test_every_model_says_what_data_it_is_for():
    assert models.names(models.FASHION_MNIST) == ["arch10", "arch4", "arch5", "proposed"]
    assert models.names(models.PHOTOS) == ["efficientnet_lite0", "efficientnet_lite0_lite2",
                                              "efficientnet_lite2", "resnet50"]


def test_unknown_model_option_fails_naming_it_and_the_known_ones():
    values = models.ModelOptions().to_dict()
    with pytest.raises(ValueError,
                       match="unknown key 'wieghts'; known keys: weights, augment"):
        models.ModelOptions.from_dict({**values, "wieghts": "imagenet"})
    with pytest.raises(ValueError, match="dropout must be smaller than 1"):
        models.ModelOptions.from_dict({**values, "dropout": 1.5})


def test_cnns_ignore_options_they_do_not_take_and_apply_width_and_dropout():
    options = models.ModelOptions(weights="imagenet", augment=True, width=0.5, dropout=0.4)
    assert models.ignored_options("arch5", options) == {"weights": "imagenet", "augment": True}
    assert models.ignored_options("arch10", options) == {"weights": "imagenet", "augment": True,
                                                         "dropout": 0.4}
    spec = models.ModelSpec(input_shape=(28, 28, 1), num_classes=3, input_name=IMAGE_XF,
                            options=options)
    model = models.build("arch5", spec)
    assert [l.filters for l in model.layers if hasattr(l, "filters")] == [16, 32, 64]
    assert [l.rate for l in model.layers if hasattr(l, "rate")] == [0.4]
    assert models.fine_tune("arch5", model, options) == 0  # no pretrained base
