"""Compiling for Kubeflow Pipelines / Vertex AI and submitting to Vertex, offline.

Needs the ``kubeflow`` extra (kfp-pipeline-spec); skipped without it.
"""

import json

import pytest
import yaml

pipeline_spec_pb2 = pytest.importorskip("kfp.pipeline_spec.pipeline_spec_pb2")

from google.protobuf import json_format  # noqa: E402

from imagepipe.pipeline import cli, kubeflow_runner  # noqa: E402
from imagepipe.pipeline.commands import compile as compile_command  # noqa: E402
from imagepipe.pipeline.pipeline import RESOLVER_ID, create_pipeline  # noqa: E402

IMAGE = "europe-docker.pkg.dev/my-project/imagepipe/imagepipe:1.0"
ROOT = "gs://my-bucket/imagepipe/root"
DATA = "gs://my-bucket/fashion-mnist"
COMPILE_ARGS = ["compile", "fashion-mnist", "--image", IMAGE, "--pipeline-root", ROOT, "--data-dir", DATA,
                "--epochs", "5", "--model", "proposed", "--balance", "class_weight",
                "--min-accuracy", "0.97"]
DEFAULTS = {"epochs": 5, "model_name": "proposed", "balance": "class_weight",
            "min_accuracy": 0.97}


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """Compiles for both targets through the CLI; returns {target: (path, file text)}."""
    folder = tmp_path_factory.mktemp("specs")
    result = {}
    for target, name in (("vertex", "job.json"), ("kubeflow", "spec.yaml")):
        path = str(folder / name)
        assert cli.main(COMPILE_ARGS + ["--target", target, "--output", path]) == 0
        result[target] = (path, open(path).read())
    return result


@pytest.fixture(scope="module")
def local_pipeline():
    """The pipeline the same arguments give locally (no runtime parameters)."""
    args = cli.build_parser().parse_args(COMPILE_ARGS + ["--target", "vertex"])
    return create_pipeline(compile_command.build_config(args))


def _node_id(task_name: str) -> str:
    """Maps a compiled task to its DSL node: the resolver compiles into two tasks."""
    return RESOLVER_ID if task_name.startswith(RESOLVER_ID + "-") else task_name


def test_the_compiled_specs_parse(compiled):
    json_format.ParseDict(json.loads(compiled["vertex"][1]), pipeline_spec_pb2.PipelineJob())
    spec = json_format.ParseDict(yaml.safe_load(compiled["kubeflow"][1]),
                                 pipeline_spec_pb2.PipelineSpec())
    assert spec.schema_version == "2.1.0" and spec.default_pipeline_root == ROOT


def test_every_local_component_and_dependency_is_compiled(compiled, local_pipeline):
    job = kubeflow_runner.read_spec(compiled["vertex"][0])
    tasks = kubeflow_runner.tasks(job)
    assert {_node_id(t) for t in tasks} == {c.id for c in local_pipeline.components}
    compiled_edges = {(_node_id(upstream), _node_id(task))
                      for task, upstreams in tasks.items() for upstream in upstreams}
    local_edges = {(upstream.id, component.id) for component in local_pipeline.components
                   for upstream in component.upstream_nodes}
    assert compiled_edges == local_edges
    assert ("Transform", "Trainer") in compiled_edges and ("Evaluator", "Pusher") in compiled_edges


def test_components_run_in_the_image_with_container_beam_defaults(compiled):
    job = kubeflow_runner.read_spec(compiled["vertex"][0])
    assert kubeflow_runner.images(job) == [IMAGE]
    executors = job["pipelineSpec"]["deploymentSpec"]["executors"]
    args = executors["ExampleGen_executor"]["container"]["args"]
    assert "--direct_running_mode=multi_processing" in args and "--direct_num_workers=0" in args
    example_gen = job["pipelineSpec"]["root"]["dag"]["tasks"]["ExampleGen"]
    assert example_gen["inputs"]["parameters"]["input_base"]["runtimeValue"]["constant"] == DATA


@pytest.mark.parametrize("target", ["vertex", "kubeflow"])
def test_runtime_parameters_have_the_given_defaults(compiled, target):
    job = kubeflow_runner.read_spec(compiled[target][0])
    parameters = kubeflow_runner.parameters(job)
    assert {name: default for name, (_, default) in parameters.items()} == DEFAULTS
    assert parameters["epochs"][0] == "NUMBER_INTEGER"
    assert parameters["min_accuracy"][0] == "NUMBER_DOUBLE"
    tasks = job["pipelineSpec"]["root"]["dag"]["tasks"]
    for name in ("epochs", "model_name", "balance"):
        assert tasks["Trainer"]["inputs"]["parameters"][name] == {
            "componentInputParameter": name}
    assert tasks["Evaluator"]["inputs"]["parameters"]["min_accuracy"] == {
        "componentInputParameter": "min_accuracy"}
    assert kubeflow_runner.pipeline_root(job) == ROOT


def test_user_beam_args_replace_the_defaults(tmp_path):
    path = str(tmp_path / "job.json")
    dataflow = ["--beam-arg=--runner=DataflowRunner", "--beam-arg=--region=europe-west4"]
    assert cli.main(COMPILE_ARGS + ["--target", "vertex", "--output", path] + dataflow) == 0
    job = kubeflow_runner.read_spec(path)
    args = job["pipelineSpec"]["deploymentSpec"]["executors"]["Transform_executor"]["container"]
    assert args["args"][-2:] == ["--runner=DataflowRunner", "--region=europe-west4"]
    assert not any(a.startswith("--direct_") for a in args["args"])


def test_vertex_needs_a_gcs_pipeline_root(tmp_path, capsys):
    args = ["compile", "fashion-mnist", "--target", "vertex", "--image", IMAGE, "--pipeline-root",
            str(tmp_path), "--data-dir", DATA, "--output", str(tmp_path / "job.json")]
    assert cli.main(args) == 2
    assert "Vertex AI needs a gs:// pipeline root" in capsys.readouterr().err


def test_submit_dry_run_prints_the_job_and_calls_nothing(compiled, monkeypatch, capsys):
    def refuse(job):
        raise AssertionError(f"dry run called Vertex AI with {job}")
    monkeypatch.setattr(kubeflow_runner, "submit_vertex", refuse)
    path = compiled["vertex"][0]
    code = cli.main(["submit", "--project", "my-project", "--region", "europe-west4",
                     "--spec", path, "--epochs", "8", "--dry-run"])
    out = capsys.readouterr().out
    assert code == 0 and "dry run" in out
    job = json.loads(out[out.index("{"):])
    assert job["template_path"] == path and job["pipeline_root"] == ROOT
    assert job["parameter_values"] == {**DEFAULTS, "epochs": 8}
    assert (job["project"], job["location"]) == ("my-project", "europe-west4")


def test_submit_names_unknown_parameters_and_missing_specs(compiled, tmp_path, capsys):
    with pytest.raises(ValueError, match="has no runtime parameter batch_size"):
        kubeflow_runner.vertex_job(compiled["vertex"][0], "p", "r", overrides={"batch_size": 1})
    missing = str(tmp_path / "nowhere.json")
    assert cli.main(["submit", "--project", "p", "--region", "r", "--spec", missing,
                     "--dry-run"]) == 2
    assert f"compiled pipeline spec not found: {missing}" in capsys.readouterr().err


def test_submit_creates_a_vertex_pipeline_job(compiled, monkeypatch, capsys):
    from google.cloud import aiplatform
    created = {}

    class FakePipelineJob:
        resource_name = "projects/p/locations/r/pipelineJobs/imagepipe-1"

        def __init__(self, **kwargs):
            created["init"] = kwargs

        def submit(self, service_account=None):
            created["service_account"] = service_account

    monkeypatch.setattr(aiplatform, "PipelineJob", FakePipelineJob)
    assert cli.main(["submit", "--project", "p", "--region", "r", "--spec",
                     compiled["vertex"][0], "--service-account", "sa@p.iam", "--no-cache"]) == 0
    assert created["init"]["template_path"] == compiled["vertex"][0]
    assert created["init"]["enable_caching"] is False
    assert created["service_account"] == "sa@p.iam"
    assert FakePipelineJob.resource_name in capsys.readouterr().out


def test_vertex_sdk_accepts_the_compiled_job_offline(compiled):
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import aiplatform
    job = aiplatform.PipelineJob(
        display_name="imagepipe", template_path=compiled["vertex"][0], pipeline_root=ROOT,
        parameter_values={"epochs": 2}, project="p", location="europe-west4",
        credentials=AnonymousCredentials())
    values = job._gca_resource.runtime_config.parameter_values  # pylint: disable=protected-access
    assert values["epochs"] == 2 and values["model_name"] == "proposed"


def test_tune_compiles_a_tuner_that_tunes_the_model_named_at_submit_time(tmp_path):
    path = str(tmp_path / "job.json")
    assert cli.main(COMPILE_ARGS + ["--target", "vertex", "--output", path, "--tune"]) == 0
    job = kubeflow_runner.read_spec(path)
    tasks = kubeflow_runner.tasks(job)
    assert "Tuner" in tasks["Trainer"] and "Transform" in tasks["Tuner"]
    dag = job["pipelineSpec"]["root"]["dag"]["tasks"]
    for name in ("epochs", "model_name", "balance"):  # the Tuner takes the Trainer's parameters
        assert dag["Tuner"]["inputs"]["parameters"][name] == {"componentInputParameter": name}


def test_compile_needs_the_data_folder_as_the_containers_see_it(tmp_path, capsys):
    args = ["compile", "fashion-mnist", "--target", "vertex", "--image", IMAGE,
            "--pipeline-root", ROOT, "--output", str(tmp_path / "job.json")]
    assert cli.main(args) == 2
    assert "--data-dir is required with the idx source" in capsys.readouterr().err
    assert not (tmp_path / "job.json").exists()


def test_a_photo_folder_compiles_with_its_class_map_read_now(tmp_path):
    from imagepipe.testing import photo_fixtures
    folder = tmp_path / "pens"
    photo_fixtures.write_photo_folder(str(folder), ("ballpoint", "fountain"), per_class=4, seed=1,
                                      variants=["png_rgb"])
    path = str(tmp_path / "job.json")
    assert cli.main(["compile", "folder", str(folder), "--target", "vertex", "--image", IMAGE,
                     "--pipeline-root", ROOT, "--output", path, "--model", "resnet50",
                     "--image-size", "64", "--epochs", "4"]) == 0
    job = kubeflow_runner.read_spec(path)
    assert job["pipelineSpec"]["pipelineInfo"]["name"] == "imagepipe-folder-pens"
    dag = job["pipelineSpec"]["root"]["dag"]["tasks"]
    constants = {name: value.get("runtimeValue", {}).get("constant")
                 for name, value in dag["ExampleGen"]["inputs"]["parameters"].items()}
    assert constants["input_base"] == str(folder)
    assert json.loads(constants["class_map"]) == [["ballpoint", ["ballpoint"]],
                                                  ["fountain", ["fountain"]]]
    transform = json.loads(dag["Transform"]["inputs"]["parameters"]["custom_config"]
                           ["runtimeValue"]["constant"])
    assert transform["settings"] == {"image_size": 64, "resize_mode": "pad"}
    assert {n: d for n, (_, d) in kubeflow_runner.parameters(job).items()} == {
        "epochs": 4, "model_name": "resnet50", "balance": "oversample", "min_accuracy": 0.8}


def test_statistics_take_top_values_and_unique_counts_from_sketches(compiled, local_pipeline):
    import tensorflow_data_validation as tfdv  # pylint: disable=g-import-not-at-top
    statistics_gen = next(n for n in local_pipeline.components if n.id == "StatisticsGen")
    options = tfdv.StatsOptions.from_json(statistics_gen.exec_properties["stats_options_json"])
    assert options.use_sketch_based_topk_uniques
    for _, text in compiled.values():  # the clouds' StatisticsGen too
        assert "use_sketch_based_topk_uniques" in text
