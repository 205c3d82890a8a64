"""ResNet50: weights from a local file, frozen base, fine-tuning, export and reload (32x32 inputs)."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from imagepipe.components import features, models
from imagepipe.components.models import resnet
from imagepipe.components.trainer import task

IMAGE_XF = features.transformed_name(features.IMAGE_KEY)
SIZE = 32
# conv5_block1 has 4 convolutions (with the shortcut), conv5_block2 and _block3 3 each.
CONV5_CONVOLUTIONS = 10


@pytest.fixture(scope="module")
def weights_file(tmp_path_factory) -> str:
    """A ResNet50(include_top=False) weights file made here, as a user's local file would be."""
    return resnet.make_weights_file(str(tmp_path_factory.mktemp("weights") / "resnet50.h5"))


def _spec(**options) -> models.ModelSpec:
    return models.ModelSpec(input_shape=(SIZE, SIZE, 3), num_classes=3, input_name=IMAGE_XF,
                            options=models.ModelOptions(input_size=SIZE, **options))


def _images(count=12, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 1, (count, SIZE, SIZE, 3)).astype(np.float32), np.arange(count) % 3


def test_weights_load_from_a_local_file(weights_file):
    model = models.build("resnet50", _spec(weights=weights_file))
    reference = resnet.resnet50_base(models.ModelOptions(weights=weights_file), SIZE)
    for got, expected in zip(model.get_layer(resnet.BASE_NAME).get_weights(),
                             reference.get_weights()):
        np.testing.assert_array_equal(got, expected)


def test_pretrained_base_is_frozen_and_fine_tuning_unfreezes_the_top_blocks(weights_file):
    model = models.build("resnet50", _spec(weights=weights_file, fine_tune_blocks=3))
    base = model.get_layer(resnet.BASE_NAME)
    assert not base.trainable
    assert [w.name.split("/")[0] for w in model.trainable_weights] == ["logits", "logits"]
    assert len(resnet.residual_blocks(base)) == 16

    options = _spec(weights=weights_file, fine_tune_blocks=3).options
    assert models.fine_tune("resnet50", model, options) == CONV5_CONVOLUTIONS
    trainable = [l for l in base.layers if l.trainable and l.weights]
    assert len(trainable) == CONV5_CONVOLUTIONS
    assert all(l.name.startswith("conv5_") and isinstance(l, keras.layers.Conv2D)
               for l in trainable)
    assert len(model.trainable_weights) == 2 + 2 * CONV5_CONVOLUTIONS  # kernels and biases
    frozen = [l for l in base.layers if l.weights and not l.trainable]
    assert len(frozen) == len([l for l in base.layers if l.weights]) - CONV5_CONVOLUTIONS


def test_without_weights_the_whole_base_trains_and_there_is_nothing_to_fine_tune():
    model = models.build("resnet50", _spec())
    assert model.get_layer(resnet.BASE_NAME).trainable
    assert models.fine_tune("resnet50", model, _spec().options) == 0


def test_augmentation_and_preprocess_input_are_inside_the_model(weights_file):
    names = [l.name for l in models.build("resnet50", _spec(augment=True)).layers]
    assert names[:5] == [IMAGE_XF, "to_rgb", "augmentation", "preprocess_input",
                         resnet.BASE_NAME]
    assert "augmentation" not in [l.name for l in models.build("resnet50", _spec()).layers]


def test_trains_a_step_saves_and_reloads_with_the_same_outputs(weights_file, tmp_path):
    model = task.compile_model(
        models.build("resnet50", _spec(weights=weights_file, augment=True)), 1e-3)
    x, y = _images()
    head_before = model.get_layer("logits").get_weights()[0].copy()
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    assert not np.allclose(head_before, model.get_layer("logits").get_weights()[0])
    models.fine_tune("resnet50", model, _spec(weights=weights_file).options)
    task.compile_model(model, 1e-5).fit(x, y, batch_size=4, epochs=1, verbose=0)
    model.save(str(tmp_path / "saved"), save_format="tf")
    reloaded = tf.saved_model.load(str(tmp_path / "saved"))
    np.testing.assert_allclose(reloaded(x, training=False).numpy(),
                               model(x, training=False).numpy(), atol=1e-4)


def test_input_size_defaults_to_the_transformed_size_and_at_least_32():
    spec = models.ModelSpec(input_shape=(48, 48, 3), num_classes=3, input_name=IMAGE_XF)
    assert resnet.input_size(spec) == 48
    assert resnet.input_size(dataclasses.replace(spec, input_shape=(28, 28, 1))) == 32
    spec = dataclasses.replace(spec, options=models.ModelOptions(input_size=64))
    assert resnet.input_size(spec) == 64


def test_missing_weights_file_is_named(tmp_path):
    missing = str(tmp_path / "nowhere.h5")
    with pytest.raises(FileNotFoundError, match=f"ResNet50 weights file not found: {missing}"):
        models.build("resnet50", _spec(weights=missing))


def test_a_file_of_other_weights_fails_clearly(tmp_path):
    path = str(tmp_path / "other.h5")
    keras.Sequential([keras.layers.Dense(2, input_shape=(3,))]).save_weights(path)
    with pytest.raises(RuntimeError, match="could not load ResNet50 weights from"):
        models.build("resnet50", _spec(weights=path))


def test_imagenet_goes_through_keras_download_and_fails_clearly_offline(monkeypatch):
    """The real download cannot run offline; this checks the path and the message."""
    from tf_keras.src.applications import resnet as keras_resnet
    asked = []

    def offline(name, url, **kwargs):
        asked.append((name, url))
        raise Exception(f"URL fetch failure on {url}: [Errno -3] Temporary failure in name "
                        f"resolution")

    monkeypatch.setattr(keras_resnet.data_utils, "get_file", offline)
    with pytest.raises(RuntimeError, match="could not download the ImageNet weights of ResNet50"
                                           ".*--weights PATH"):
        models.build("resnet50", _spec(weights="imagenet"))
    assert asked and asked[0][0].startswith("resnet50_weights_tf_dim_ordering_tf_kernels_notop")
