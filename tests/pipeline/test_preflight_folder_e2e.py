"""imagepipe preflight on a spec compiled for a tiny photo folder, beside LocalDagRunner.

The folder's own default model (efficientnet_lite0 with its installed ImageNet
weights, 32 px for time) is compiled with ``imagepipe compile folder --target
kubeflow`` (epochs 1) and pre-flighted with ``--param epochs=3``; LocalDagRunner
runs the config the same arguments give, with epochs 3.
"""

import os

import pytest

pytest.importorskip("kfp.pipeline_spec.pipeline_spec_pb2")

from imagepipe.pipeline import cli  # noqa: E402
from imagepipe.pipeline.preflight import runner  # noqa: E402
from imagepipe.testing import photo_fixtures  # noqa: E402
from tests.pipeline.test_preflight_e2e import (  # noqa: E402
    ACCURACY_TOLERANCE, IN_MEMORY, _accuracy, _training, run_locally)


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """The spec path and the compile arguments for a clean 3-class folder."""
    folder = tmp_path_factory.mktemp("preflight_folder")
    photos = photo_fixtures.write_photo_folder(str(folder / "photos"), per_class=12)
    spec_path = str(folder / "spec.json")
    args = ["compile", "folder", photos.root, "--target", "kubeflow", "--image", "img",
            "--pipeline-root", str(folder / "compiled_root"), "--output", spec_path,
            "--image-size", "32", "--epochs", "1", "--min-accuracy", "0"] + IN_MEMORY
    assert cli.main(args) == 0
    return spec_path, args


@pytest.fixture(scope="module")
def preflight_run(compiled, tmp_path_factory):
    root = str(tmp_path_factory.mktemp("preflight_folder_root"))
    return root, runner.run(compiled[0], root, ["epochs=3"])


@pytest.fixture(scope="module")
def local_run(compiled, tmp_path_factory):
    return run_locally(compiled[1], str(tmp_path_factory.mktemp("local_folder_run")), epochs=3)


def test_the_folder_spec_runs_to_a_pushed_model_with_local_dag_runners_accuracy(
        preflight_run, local_run):
    root, result = preflight_run
    assert len(result.tasks) == 11  # SpanDrift too: a folder of one span, described only
    assert result.artifact("SpanDrift", "drift")["metadata"]["drifted"] == 0
    pushed = result.artifact("Pusher", "pushed_model")["metadata"]
    assert pushed["pushed"] == 1
    assert os.path.exists(os.path.join(pushed["pushed_destination"], "saved_model.pb"))
    assert pushed["pushed_destination"].startswith(os.path.join(root, "serving"))
    assert local_run.pushed
    assert abs(_accuracy(result) - local_run.accuracy) <= ACCURACY_TOLERANCE, (
        _accuracy(result), local_run.accuracy)


def test_the_folder_models_settings_and_the_run_time_epochs_reach_the_trainer(preflight_run):
    _, result = preflight_run
    training = _training(result)
    assert training.settings.model_name == "efficientnet_lite0"
    assert training.settings.model_options.weights == "imagenet"
    assert (training.settings.epochs, result.parameters["epochs"]) == (3, 3)
