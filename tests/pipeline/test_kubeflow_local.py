"""The pipeline as compiled for the cloud runs locally: runtime parameters, multi-process Beam."""

import io
import logging

import pytest
from absl import logging as absl_logging

from imagepipe.pipeline import beam_options, config as config_lib, local_runner, results
from tests.conftest import tiny_config

DATA_COMPONENTS = ("FashionMnistExampleGen", "StatisticsGen", "Transform")


@pytest.fixture
def beam_workers(monkeypatch):
    """Records (component, worker id) for every Beam SDK worker process started."""
    from apache_beam.runners.portability import local_job_service
    progress = local_runner.ProgressHandler(io.StringIO())
    started = []
    original_run = local_job_service.SubprocessSdkWorker.run

    def recording_run(worker):
        started.append((progress.current, worker._worker_id))  # pylint: disable=protected-access
        return original_run(worker)

    monkeypatch.setattr(local_job_service.SubprocessSdkWorker, "run", recording_run)
    root, verbosity = logging.getLogger(), absl_logging.get_verbosity()
    level = root.level
    root.addHandler(progress)
    root.setLevel(logging.INFO)
    absl_logging.set_verbosity(absl_logging.INFO)
    yield started
    root.removeHandler(progress)
    root.setLevel(level)
    absl_logging.set_verbosity(verbosity)


def test_runs_with_multi_processing_beam_and_runtime_parameter_defaults(
        tiny_fashion_mnist, tmp_path, beam_workers):
    config = tiny_config(
        tiny_fashion_mnist, str(tmp_path),
        trainer=config_lib.TrainerConfig(model_name="arch5", epochs=1, balance="class_weight"),
        evaluation=config_lib.EvalConfig(min_accuracy=0.3),
        beam_pipeline_args=beam_options.local_defaults(num_workers=2),
        runtime_parameters=True)
    local_runner.run(config)
    summary = results.latest_run(config.metadata_path, config.pipeline_name)
    assert all(state == "COMPLETE" for state in summary.components.values()), summary.components
    assert summary.blessed and summary.pushed
    training = summary.training["config"]
    assert (training["epochs"], training["model_name"], training["balance"]) == (
        1, "arch5", "class_weight")
    for component in DATA_COMPONENTS:
        workers = {worker for node, worker in beam_workers if node == component}
        assert len(workers) >= 2, (component, beam_workers)


def test_local_runs_default_to_one_worker_process_per_core():
    from imagepipe.pipeline import cli
    args = cli.build_parser().parse_args(["run", "fashion-mnist"])
    assert args.beam_arg == beam_options.local_defaults()
    assert "--direct_running_mode=multi_processing" in args.beam_arg
    args = cli.build_parser().parse_args(["run", "fashion-mnist",
                                          "--beam-arg=--direct_num_workers=1"])
    assert args.beam_arg == ["--direct_num_workers=1"]
