"""The pipeline as compiled for the cloud runs locally: runtime parameters, multi-process Beam."""

import io
import logging

import pytest
from absl import logging as absl_logging

from imagepipe.components import settings
from imagepipe.pipeline import beam_options, local_runner, results
from tests.conftest import tiny_config

DATA_COMPONENTS = ("ExampleGen", "StatisticsGen", "Transform")


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
        training=settings.TrainingSettings(model_name="arch5", epochs=1,
                                           balance="class_weight"),
        evaluation=settings.EvaluationSettings(min_accuracy=0.3),
        beam_pipeline_args=beam_options.direct_args(2, beam_options.MULTI_PROCESSING),
        runtime_parameters=True)
    local_runner.run(config)
    summary = results.latest_run(config.metadata_path, config.pipeline_name)
    assert all(state == "COMPLETE" for state in summary.components.values()), summary.components
    assert summary.blessed and summary.pushed
    training = summary.training.settings
    assert (training.epochs, training.model_name, training.balance) == (1, "arch5",
                                                                       "class_weight")
    for component in DATA_COMPONENTS:
        workers = {worker for node, worker in beam_workers if node == component}
        assert len(workers) >= 2, (component, beam_workers)


def test_local_default_is_one_worker_process_per_core_from_three_cores():
    assert beam_options.local_defaults(cores=8) == (
        "--runner=FnApiRunner", "--direct_running_mode=multi_processing",
        "--direct_num_workers=8")
    assert beam_options.local_defaults(cores=2) == (
        "--runner=FnApiRunner", "--direct_running_mode=in_memory", "--direct_num_workers=1")


def test_run_uses_the_local_default_unless_beam_args_are_given():
    from imagepipe.pipeline import cli
    args = cli.build_parser().parse_args(["run", "fashion-mnist"])
    assert args.beam_arg == beam_options.local_defaults()
    args = cli.build_parser().parse_args(["run", "fashion-mnist",
                                          "--beam-arg=--direct_num_workers=1"])
    assert args.beam_arg == ["--direct_num_workers=1"]
