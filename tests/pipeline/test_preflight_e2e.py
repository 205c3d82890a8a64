"""imagepipe preflight on a spec compiled for tiny Fashion-MNIST, beside LocalDagRunner.

One spec (``imagepipe compile fashion-mnist --target kubeflow``, epochs 1) runs
through pre-flight with ``--param epochs=2``: every container task as a
subprocess, as on Vertex. The same config runs with LocalDagRunner (epochs 2);
both train in the same Beam mode (in memory, set at compile time) from the same
data, split seed and training seed.
"""

import dataclasses
import json
import os

import pytest

pytest.importorskip("kfp.pipeline_spec.pipeline_spec_pb2")

from imagepipe.components import reports  # noqa: E402
from imagepipe.pipeline import cli, local_runner, results  # noqa: E402
from imagepipe.pipeline.commands import compile as compile_command  # noqa: E402
from imagepipe.pipeline.preflight import runner  # noqa: E402

IN_MEMORY = ["--beam-arg=--direct_running_mode=in_memory", "--beam-arg=--direct_num_workers=1"]
# Accuracies of the two runs may differ by this much: TensorFlow's CPU kernels reduce in
# threads, so the same seed gives the same weights only up to float rounding.
ACCURACY_TOLERANCE = 0.02


@pytest.fixture(scope="module")
def compiled(tiny_fashion_mnist, tmp_path_factory):
    """The spec path and the compile arguments (local compiled root, epochs 1)."""
    folder = tmp_path_factory.mktemp("preflight_e2e")
    spec_path = str(folder / "spec.yaml")
    args = ["compile", "fashion-mnist", "--target", "kubeflow", "--image", "img",
            "--pipeline-root", str(folder / "compiled_root"), "--data-dir", tiny_fashion_mnist,
            "--output", spec_path, "--epochs", "1", "--min-accuracy", "0.3"] + IN_MEMORY
    assert cli.main(args) == 0
    return spec_path, args


@pytest.fixture(scope="module")
def preflight_run(compiled, tmp_path_factory):
    root = str(tmp_path_factory.mktemp("preflight_root"))
    return root, runner.run(compiled[0], root, ["epochs=2"])


def run_locally(compile_args, output: str, epochs: int) -> results.RunSummary:
    """LocalDagRunner on the config ``compile_args`` give, under ``output``, with ``epochs``."""
    config = compile_command.build_config(cli.build_parser().parse_args(compile_args))
    config = dataclasses.replace(
        config, pipeline_root=os.path.join(output, "root"),
        serving_dir=os.path.join(output, "serving"),
        metadata_path=os.path.join(output, "metadata.sqlite"),
        training=config.training.replace(epochs=epochs))
    local_runner.run(config)
    return results.latest_run(config.metadata_path, config.pipeline_name)


@pytest.fixture(scope="module")
def local_run(compiled, tmp_path_factory):
    """LocalDagRunner on the config the same compile arguments give, with epochs 2."""
    return run_locally(compiled[1], str(tmp_path_factory.mktemp("local_run")), epochs=2)


def _training(result) -> reports.TrainingSummary:
    model_run = result.artifact("Trainer", "model_run")["uri"]
    return reports.TrainingSummary.read(os.path.join(model_run, reports.TRAINING_SUMMARY_FILE))


def _accuracy(result) -> float:
    evaluation = result.artifact("Evaluator", "evaluation")["uri"]
    return results.read_evaluation(results.RunSummary(run_id="", components={}),
                                   evaluation).accuracy


def test_the_spec_runs_to_a_pushed_model_with_local_dag_runners_accuracy(
        preflight_run, local_run):
    root, result = preflight_run
    assert [t.name for t in result.tasks][0] == "ExampleGen" and len(result.tasks) == 10
    assert result.artifact("Evaluator", "blessing")["metadata"]["blessed"] == 1
    pushed = result.artifact("Pusher", "pushed_model")["metadata"]
    assert pushed["pushed"] == 1
    assert pushed["pushed_destination"].startswith(os.path.join(root, "serving", "fashion_mnist"))
    assert os.path.exists(os.path.join(pushed["pushed_destination"], "saved_model.pb"))
    assert local_run.blessed and local_run.pushed
    examples = result.artifact("ExampleGen", "examples")["metadata"]
    assert examples["num_examples"] == local_run.ingest_report.kept_examples == 450
    print(f"test accuracy: pre-flight {_accuracy(result)!r}, LocalDagRunner "
          f"{local_run.accuracy!r}")
    assert abs(_accuracy(result) - local_run.accuracy) <= ACCURACY_TOLERANCE, (
        _accuracy(result), local_run.accuracy)


def test_epochs_given_at_run_time_are_the_epochs_trained(preflight_run, local_run):
    _, result = preflight_run
    training = _training(result)
    assert result.parameters["epochs"] == 2
    assert (training.settings.epochs, training.epochs_run) == (2, 2)
    assert local_run.training.epochs_run == 2


def test_the_resolvers_find_the_model_the_run_blessed(compiled, preflight_run, tmp_path):
    """The spec's two resolver tasks alone, on the same root: they answer from its records."""
    root, result = preflight_run
    job = yaml_load(compiled[0])
    tasks = job["root"]["dag"]["tasks"]
    for name in [n for n in tasks if not n.startswith("latest_blessed_model_resolver")]:
        del tasks[name]
    path = tmp_path / "resolvers.json"
    path.write_text(json.dumps({"pipelineSpec": job, "runtimeConfig": {}}))
    resolved = runner.run(str(path), root)
    found = resolved.artifact("latest_blessed_model_resolver-model-resolver", "model")
    assert found["uri"] == result.artifact("Trainer", "model")["uri"]
    blessing = resolved.artifact("latest_blessed_model_resolver-model-blessing-resolver",
                                 "model_blessing")
    assert blessing["uri"] == result.artifact("Evaluator", "blessing")["uri"]


def yaml_load(path):
    import yaml
    with open(path) as f:
        return yaml.safe_load(f)


def _broken(compiled, tmp_path, change):
    job = yaml_load(compiled[0])
    change(job)
    path = tmp_path / "broken.json"
    path.write_text(json.dumps({"pipelineSpec": job, "runtimeConfig": {}}))
    return str(path)


def test_a_wrong_run_fn_module_fails_naming_the_trainer_before_anything_runs(
        compiled, tmp_path, capsys):
    def wrong_module(job):
        job["root"]["dag"]["tasks"]["Trainer"]["inputs"]["parameters"]["run_fn"] = {
            "runtimeValue": {"constant": "imagepipe.components.trainer.no_such.run_fn"}}
    path = _broken(compiled, tmp_path, wrong_module)
    assert cli.main(["preflight", path, "--pipeline-root", str(tmp_path / "root")]) == 2
    err = capsys.readouterr().err
    assert "task Trainer: run_fn imagepipe.components.trainer.no_such.run_fn does not import " \
           "here: No module named 'imagepipe.components.trainer.no_such'" in err
    assert not (tmp_path / "root").exists()


def test_a_parameter_without_a_default_fails_naming_the_trainer(compiled, tmp_path, capsys):
    def no_default(job):
        del job["root"]["inputDefinitions"]["parameters"]["epochs"]["defaultValue"]
    path = _broken(compiled, tmp_path, no_default)
    assert cli.main(["preflight", path, "--pipeline-root", str(tmp_path / "root")]) == 2
    assert "task Trainer: input parameter epochs takes the pipeline parameter epochs, which " \
           "has no default: give --param epochs=VALUE" in capsys.readouterr().err
    assert cli.main(["preflight", path, "--pipeline-root", str(tmp_path / "root"),
                     "--param", "epochs=two"]) == 2
    assert "--param epochs=two: not a NUMBER_INTEGER" in capsys.readouterr().err


def test_a_failing_task_names_its_command_and_stderr(compiled, tmp_path, capsys):
    missing = str(tmp_path / "no_data_here")

    def wrong_data(job):
        job["root"]["dag"]["tasks"]["ExampleGen"]["inputs"]["parameters"]["input_base"] = {
            "runtimeValue": {"constant": missing}}
    path = _broken(compiled, tmp_path, wrong_data)
    assert cli.main(["preflight", path, "--pipeline-root", str(tmp_path / "root")]) == 2
    err = capsys.readouterr().err
    assert "task ExampleGen failed: its command exited with 1" in err
    assert "command: python -m tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor " \
           "--executor_class_path imagepipe.components.ingest.executor.Executor" in err
    assert "stderr (last lines):" in err
    assert f"FileNotFoundError: Fashion-MNIST file train-images-idx3-ubyte.gz (or its " \
           f"uncompressed form) is missing from {missing}" in err
    assert "ExampleGen/stderr.log" in err
