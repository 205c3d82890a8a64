"""The photo-folder pipeline with efficientnet_lite0 and ImageNet weights, on real photos."""

import os
import shutil

import numpy as np
import pytest
import tensorflow as tf

from imagepipe.components import features, settings
from imagepipe.components.sources.photo_folder import FolderSettings
from imagepipe.data import class_map
from imagepipe.pipeline import local_runner, results, summary as summary_lib
from tests.conftest import tiny_config

REAL_PHOTOS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "photos",
                           "clothing", "train")
FOLDERS = ("pants", "shoes", "t-shirt")
PER_CLASS = 14

pytestmark = pytest.mark.skipif(not os.path.isdir(REAL_PHOTOS),
                                reason="../shared/photos/clothing is not here")


@pytest.fixture(scope="module")
def pretrained_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("clothes")
    for folder in FOLDERS:
        os.makedirs(root / folder)
        for name in sorted(os.listdir(os.path.join(REAL_PHOTOS, folder)))[:PER_CLASS]:
            shutil.copy(os.path.join(REAL_PHOTOS, folder, name), root / folder / name)
    output = str(tmp_path_factory.mktemp("pretrained_run"))
    pipeline_config = tiny_config(
        str(root), output, pipeline_name="imagepipe-pretrained-test",
        serving_model_name="clothes",
        data=FolderSettings(data_dir=str(root),
                                     class_map=class_map.from_folders(FOLDERS),
                                     image_size=96, max_side=128),
        training=settings.TrainingSettings(
            model_name="efficientnet_lite0", epochs=15, batch_size=16,
            model_options=settings.ModelOptions(weights="imagenet")),
        evaluation=settings.EvaluationSettings(min_accuracy=0.7))
    local_runner.run(pipeline_config)
    return pipeline_config, results.latest_run(pipeline_config.metadata_path,
                                               pipeline_config.pipeline_name)


def test_imagenet_features_classify_real_photos_and_the_model_is_pushed(pretrained_run):
    _, summary = pretrained_run
    assert summary.blessed and summary.pushed, (summary.accuracy, summary.confusion_matrix)
    assert summary.accuracy >= 0.7


def test_the_head_trained_on_features_computed_once(pretrained_run):
    _, summary = pretrained_run
    training = summary.training
    assert training.frozen_features_seconds is not None
    assert training.trainable_parameters == 1280 * len(FOLDERS) + len(FOLDERS)
    assert training.balance.copies == "exact"
    assert "frozen base: features computed once" in summary_lib.format_summary(summary, 1.0)


def test_the_served_model_takes_raw_jpeg_bytes(pretrained_run):
    _, summary = pretrained_run
    serve = tf.saved_model.load(summary.pushed_destination).signatures[
        features.SERVING_SIGNATURE]
    photos = [os.path.join(REAL_PHOTOS, folder, sorted(os.listdir(
        os.path.join(REAL_PHOTOS, folder)))[-1]) for folder in FOLDERS]
    requests = [open(path, "rb").read() for path in photos]
    outputs = serve(**{features.SERVING_INPUT_KEY: tf.constant(requests)})
    probabilities = outputs[features.PROBABILITIES_OUTPUT].numpy()
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    names = [n.decode() for n in outputs[features.CLASS_NAMES_OUTPUT].numpy()]
    assert sum(name == folder for name, folder in zip(names, FOLDERS)) >= 2, names
