"""Every training setting changes what it promises, through the real Trainer executor.

Each setting of ``TrainingSettings`` and ``ModelOptions`` has an entry below:
the setting changed from a baseline, and what must then differ in what the
Trainer measured (``training_summary.json``: the stream it counted, the
optimizer it used, the callbacks that ran) or in the model it built. A new
setting without an entry fails ``test_every_setting_has_an_effect_check``.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform as tft
import tf_keras as keras

from imagepipe.components import features, models, normalize, preprocessing
from imagepipe.components.models import resnet
from imagepipe.components.record import SettingsError
from imagepipe.components.settings import ModelOptions, TrainingSettings
from imagepipe.components.trainer import export, task
from imagepipe.testing import fixtures
from tests import trainer_util

BASE = TrainingSettings(model_name="arch5", epochs=1, batch_size=32,
                        class_names=tuple(features.SUPER_CLASS_NAMES))
TRAIN_IMAGES = 315  # the tiny pipeline run's training split (conftest)


@pytest.fixture(scope="module")
def root(pipeline_run):
    config, _ = pipeline_run
    return config.pipeline_root


@pytest.fixture(scope="module")
def runs(root, tmp_path_factory):
    """Trains on demand and remembers: settings -> trainer_util.Trained."""
    done = {}

    def run(settings: TrainingSettings) -> trainer_util.Trained:
        if settings not in done:
            done[settings] = trainer_util.train(root, str(tmp_path_factory.mktemp("trainer")),
                                                settings)
        return done[settings]
    return run


# setting -> (changed settings, check(baseline summary, changed summary))
TRAINING_EFFECTS = {
    "model_name": (BASE.replace(model_name="arch10"),
                   lambda a, b: b.parameters != a.parameters and b.settings.model_name == "arch10"),
    "epochs": (BASE.replace(epochs=2), lambda a, b: (a.epochs_run, b.epochs_run) == (1, 2)),
    "batch_size": (BASE.replace(batch_size=16), lambda a, b: (
        b.stream.batches[0], a.stream.batches[0]) == (math.ceil(b.stream.images[0] / 16),
                                                      math.ceil(a.stream.images[0] / 32))),
    "learning_rate": (BASE.replace(learning_rate=3e-4), lambda a, b: (
        a.optimizer_learning_rate, b.optimizer_learning_rate) == pytest.approx((1e-3, 3e-4))),
    "early_stopping": (BASE.replace(early_stopping=False),
                       lambda a, b: a.early_stopping is not None and b.early_stopping is None),
    "early_stopping_patience": (BASE.replace(early_stopping_patience=5), lambda a, b: (
        a.early_stopping.patience, b.early_stopping.patience) == (2, 5)),
    "balance": (BASE.replace(balance="none"), lambda a, b: (
        b.stream.images[0] == TRAIN_IMAGES < a.stream.images[0]
        and b.stream.augmented_copies[0] == 0 < a.stream.augmented_copies[0])),
    "average_epochs": (BASE.replace(epochs=3, early_stopping=False, average_epochs=2),
                       lambda a, b: a.weight_average is None
                       and b.weight_average.epochs == (2, 3)
                       and 0.0 <= b.weight_average.val_accuracy <= 1.0),
    "test_time": (BASE.replace(test_time="mirror"),
                  lambda a, b: (a.settings.test_time, b.settings.test_time) == ("none", "mirror")),
    "class_bias": (BASE.replace(class_bias="balanced"), lambda a, b: (
        a.class_bias is None and b.class_bias is not None
        and tuple(b.class_bias.bias) == BASE.class_names
        and any(value != 0.0 for value in b.class_bias.bias.values()))),
    "photo_augmentation": (BASE.replace(photo_augmentation=0.25), lambda a, b: (
        a.stream.photos_rendered[0] == 0
        and b.stream.photos_rendered[0] == round(0.25 * b.stream.images[0]))),
    # Its bounds: tests/components/test_balance.py::test_copies_lean_no_further_than_copy_rotation.
    "copy_rotation": (BASE.replace(copy_rotation=0.0), lambda a, b: (
        b.stream.augmented_copies == a.stream.augmented_copies
        and b.best_val_loss != a.best_val_loss)),
    "train_fraction": (BASE.replace(train_fraction=0.5), lambda a, b: (
        a.training_examples == TRAIN_IMAGES
        and abs(b.training_examples - TRAIN_IMAGES / 2) <= 3
        and b.class_counts_from == "fraction")),
    "seed": (BASE.replace(seed=7), lambda a, b: a.best_val_loss != b.best_val_loss),
    "recount_classes": (BASE.replace(recount_classes=True), lambda a, b: (
        a.class_counts_from, b.class_counts_from) == ("transform", "recounted")
        and a.class_counts == b.class_counts),
    "class_names": (BASE.replace(class_names=("top", "bottom", "feet")),
                    lambda a, b: b.balance.classes[0].class_name == "top"),
    # Without a base model (this executor gets none): from scratch, and said so. With one:
    # tests/pipeline/test_warm_start_e2e.py and tests/components/test_warm_start.py.
    "warm_start": (BASE.replace(warm_start=True), lambda a, b: (
        b.settings.warm_start and b.warm_started_from is None
        and a.warm_started_from is None)),
}
# Settings whose effect needs a pretrained base: checked on ResNet50 with a weights file.
FINE_TUNING_EFFECTS = ("fine_tune_epochs", "fine_tune_learning_rate", "model_options")
MODEL_OPTION_EFFECTS = ("weights", "augment", "mirror", "input_size", "fine_tune_blocks",
                        "dropout", "width")


def test_every_setting_has_an_effect_check():
    covered = set(TRAINING_EFFECTS) | set(FINE_TUNING_EFFECTS)
    assert covered == {f.name for f in dataclasses.fields(TrainingSettings)}
    assert set(MODEL_OPTION_EFFECTS) == set(ModelOptions.names())


@pytest.mark.parametrize("name", sorted(TRAINING_EFFECTS))
def test_changing_a_training_setting_changes_what_it_promises(name, runs):
    changed, check = TRAINING_EFFECTS[name]
    baseline, other = runs(BASE).summary, runs(changed).summary
    assert other.settings == changed
    assert check(baseline, other), (name, baseline, other)


def test_the_run_summary_says_how_many_images_were_rendered_as_photos(runs):
    summary = runs(TRAINING_EFFECTS["photo_augmentation"][0]).summary
    images, photos = summary.stream.images[0], summary.stream.photos_rendered[0]
    assert abs(photos / images - 0.25) <= 0.02
    lines = "\n".join(summary.summary_lines())
    assert (f"photo augmentation: {100 * photos / images:.2f}% of the training images rendered "
            f"as photos (per epoch: {photos:,} of {images:,})") in lines
    assert "photo augmentation" not in "\n".join(runs(BASE).summary.summary_lines())


def test_class_weight_trains_another_model_than_none_on_the_same_stream(runs):
    none = runs(BASE.replace(balance="none"))
    weighted = runs(BASE.replace(balance="class_weight"))
    assert weighted.summary.stream.images == none.summary.stream.images
    assert {row.loss_weight for row in none.summary.balance.classes} == {1.0}
    assert len({round(row.loss_weight, 6) for row in weighted.summary.balance.classes}) > 1
    assert weighted.history[0]["loss"] != none.history[0]["loss"]


def test_the_exported_model_answers_with_the_configured_class_names(runs):
    trained = runs(TRAINING_EFFECTS["class_names"][0])
    serve = tf.saved_model.load(trained.serving_model_dir).signatures[features.SERVING_SIGNATURE]
    image = tf.io.encode_png(tf.zeros([28, 28, 1], tf.uint8))
    names = serve(**{features.SERVING_INPUT_KEY: tf.stack([image])})[
        features.CLASS_NAMES_OUTPUT].numpy()
    assert names[0].decode() in ("top", "bottom", "feet")


def _served_and_normalized(trained: trainer_util.Trained, images):
    """The served probabilities, the loaded model and the images as the model sees them."""
    loaded = tf.saved_model.load(trained.serving_model_dir)
    request = {features.SERVING_INPUT_KEY: tf.stack(images)}
    served = loaded.signatures[features.SERVING_SIGNATURE](**request)[
        features.PROBABILITIES_OUTPUT].numpy()
    normalized = loaded.signatures[features.NORMALIZED_SIGNATURE](**request)[
        features.NORMALIZED_OUTPUT]
    return served, loaded, normalized


def _served_and_plain(trained: trainer_util.Trained, images):
    """The served probabilities and the plain Keras model's logits."""
    served, loaded, normalized = _served_and_normalized(trained, images)
    return served, loaded(normalized, training=False).numpy()


def test_the_served_model_adds_the_fitted_class_bias_to_its_logits(runs):
    rng = np.random.default_rng(0)
    images = [tf.io.encode_png(rng.integers(0, 255, (28, 28, 1), dtype=np.uint8))
              for _ in range(8)]
    plain = runs(BASE)
    served, logits = _served_and_plain(plain, images)
    np.testing.assert_allclose(served, tf.nn.softmax(logits).numpy(), atol=1e-5)
    balanced = runs(TRAINING_EFFECTS["class_bias"][0])
    bias = np.array([balanced.summary.class_bias.bias[name] for name in BASE.class_names])
    served, logits = _served_and_plain(balanced, images)
    np.testing.assert_allclose(served, tf.nn.softmax(logits + bias).numpy(), atol=1e-5)
    assert not np.allclose(served, tf.nn.softmax(logits).numpy(), atol=1e-3)
    line = "\n".join(balanced.summary.summary_lines())
    assert "class bias (balanced on" in line and "class bias" not in "\n".join(
        plain.summary.summary_lines())


def test_the_served_mirror_model_classifies_the_mean_logits_of_image_and_mirror(runs):
    rng = np.random.default_rng(1)
    images = [tf.io.encode_png(rng.integers(0, 255, (28, 28, 1), dtype=np.uint8))
              for _ in range(8)]
    served, loaded, normalized = _served_and_normalized(
        runs(TRAINING_EFFECTS["test_time"][0]), images)
    plain = loaded(normalized, training=False).numpy()
    mirror = loaded(tf.image.flip_left_right(normalized), training=False).numpy()
    np.testing.assert_allclose(served, tf.nn.softmax((plain + mirror) / 2).numpy(), atol=1e-5)
    assert not np.allclose(served, tf.nn.softmax(plain).numpy(), atol=1e-4)


def _striped_photo() -> np.ndarray:
    """A light floor with a garment striped as thin as seams and one button (decision 0029)."""
    photo = np.full((120, 120, 3), 150, np.uint8)
    photo[20:100:4, 30:90] = photo[21:100:4, 30:90] = 20
    photo[50:56, 55:61] = 20
    return photo


def test_the_served_joined_model_adds_each_photo_s_joined_view_to_the_mirror(runs):
    trained = runs(BASE.replace(test_time="joined"))
    on_black = [tf.io.encode_png(image[..., None])
                for image in fixtures.generate_images(np.array([0, 1, 7]), seed=3)]
    photos = [tf.io.encode_png(_striped_photo()), tf.io.encode_png(_striped_photo()[:, ::-1])]
    served, loaded, normalized = _served_and_normalized(trained, on_black + photos)
    joined = preprocessing.decode_images(tf.stack(on_black + photos), params=normalize.JOINED)
    np.testing.assert_array_equal(joined[:3], normalized[:3])  # light on black: one view
    assert not np.allclose(joined[3:], normalized[3:], atol=0.1)  # the stripes joined

    def mirrored(images):
        return (loaded(images, training=False).numpy()
                + loaded(tf.image.flip_left_right(images), training=False).numpy()) / 2

    np.testing.assert_allclose(served, tf.nn.softmax(
        (mirrored(normalized) + mirrored(joined)) / 2).numpy(), atol=1e-5)
    assert not np.allclose(served[3:], tf.nn.softmax(mirrored(normalized[3:])).numpy(),
                           atol=1e-4)


def test_joined_is_refused_for_a_model_of_photos():
    with pytest.raises(SettingsError, match=r"--test-time joined .* takes \(224, 224, 3\)"):
        export.check_test_time("joined", (224, 224, 3))
    export.check_test_time("joined", (28, 28, 1))
    export.check_test_time("mirror", (224, 224, 3))


def test_the_run_summary_names_the_averaged_epochs(runs):
    averaged = runs(TRAINING_EFFECTS["average_epochs"][0]).summary
    line = averaged.weight_average.summary_line()
    assert line.startswith("  weights: mean of epochs 2-3 (val loss ")
    assert line in averaged.summary_lines()
    assert "weights: mean" not in "\n".join(runs(BASE).summary.summary_lines())


def test_an_unknown_or_missing_custom_config_key_fails_the_trainer_naming_it(root, tmp_path):
    config = trainer_util.custom_config(BASE)
    with pytest.raises(SettingsError, match="unknown key 'photo_fraction'"):
        trainer_util.train(root, str(tmp_path / "a"), BASE, {
            **config, "training": {**config["training"], "photo_fraction": 0.5}})
    with pytest.raises(SettingsError, match="missing key 'batch_size'"):
        trainer_util.train(root, str(tmp_path / "b"), BASE, {
            **config, "training": {k: v for k, v in config["training"].items()
                                   if k != "batch_size"}})
    with pytest.raises(SettingsError, match="unknown key 'tuning'"):
        trainer_util.train(root, str(tmp_path / "c"), BASE, {**config, "tuning": {}})


# ---------------------------------------------------------------- a pretrained base


@pytest.fixture(scope="module")
def weights_file(tmp_path_factory):
    return resnet.make_weights_file(str(tmp_path_factory.mktemp("weights") / "notop.h5"))


@pytest.fixture(scope="module")
def resnet_base(weights_file):
    return BASE.replace(model_name="resnet50", fine_tune_epochs=1, balance="none",
                        train_fraction=0.3,  # ResNet50 is slow on 2 cores; 95 images do
                        model_options=ModelOptions(weights=weights_file, input_size=32))


def test_fine_tuning_settings_change_the_second_phase(runs, resnet_base):
    first = runs(resnet_base).summary.fine_tuning
    assert first.epochs_run == 1 and first.learning_rate == pytest.approx(1e-5)
    # Each of the three changes shows in its own field of the phase's record.
    changed = runs(resnet_base.replace(
        fine_tune_epochs=2, fine_tune_learning_rate=1e-4,
        model_options=resnet_base.model_options.replace(fine_tune_blocks=1))).summary
    assert changed.fine_tuning.epochs_run == 2 and changed.epochs_run == 3
    assert changed.fine_tuning.learning_rate == pytest.approx(1e-4)
    assert 0 < changed.fine_tuning.unfrozen_layers < first.unfrozen_layers
    assert runs(BASE).summary.fine_tuning is None


def _model(settings: TrainingSettings, transform_output) -> keras.Model:
    return models.build(settings.model_name, task.model_spec(settings, transform_output))


def test_model_options_change_the_model_the_trainer_builds(root, weights_file):
    output = tft.TFTransformOutput(trainer_util.inputs(root)["transform_graph"][0].uri)
    cnn = _model(BASE, output)
    wider = _model(BASE.replace(model_options=ModelOptions(width=0.5)), output)
    assert wider.count_params() < cnn.count_params()
    rates = [layer.rate for layer in _model(
        BASE.replace(model_options=ModelOptions(dropout=0.4)), output).layers
        if isinstance(layer, keras.layers.Dropout)]
    assert rates and set(rates) == {0.4}
    plain = BASE.replace(model_name="resnet50", model_options=ModelOptions(input_size=32))
    augmented = plain.replace(model_options=plain.model_options.replace(augment=True))
    names = [layer.name for layer in _model(augmented, output).layers]
    assert "augmentation" in names and "augmentation" not in [
        layer.name for layer in _model(plain, output).layers]
    bigger = plain.replace(model_options=plain.model_options.replace(input_size=48))
    assert _model(bigger, output).get_layer("resnet50").input_shape[1:3] == (48, 48)
    assert _model(plain, output).get_layer("resnet50").input_shape[1:3] == (32, 32)
    pretrained = _model(plain.replace(model_options=plain.model_options.replace(
        weights=weights_file)), output)
    reference = resnet.resnet50_base(ModelOptions(weights=weights_file), 32)
    np.testing.assert_array_equal(pretrained.get_layer("resnet50").get_weights()[0],
                                  reference.get_weights()[0])
    assert task.trainable_parameters(pretrained) < task.trainable_parameters(
        _model(plain, output))  # weights freeze the base; without them it all trains


def test_a_frozen_base_trains_its_head_on_features_and_mirror_doubles_them(runs):
    frozen = BASE.replace(model_name="efficientnet_lite0", balance="none",
                          model_options=ModelOptions(weights="imagenet", input_size=32))
    plain = runs(frozen).summary
    mirrored = runs(frozen.replace(model_options=frozen.model_options.replace(
        mirror=True))).summary
    assert plain.frozen_features_seconds is not None
    assert plain.stream.images == (TRAIN_IMAGES,)
    assert mirrored.stream.images == (2 * TRAIN_IMAGES,)  # every photo and its mirror image
    assert sum(mirrored.class_counts.values()) == 2 * sum(plain.class_counts.values())
    augmented = runs(frozen.replace(model_options=frozen.model_options.replace(augment=True)))
    assert augmented.summary.frozen_features_seconds is None  # random layers: images each epoch
