"""imagepipe preflight on small hand-written specs: DAG order, placeholders, records, errors.

The specs follow the KFP v2 PipelineSpec schema that ``imagepipe compile``
writes; their container tasks are short ``python -c`` programs, so every test
here runs in seconds. tests/pipeline/test_preflight_e2e.py runs compiled
imagepipe specs.
"""

import json
import os
import tempfile

import pytest

from imagepipe.pipeline import cli
from imagepipe.pipeline.preflight import placeholders, runner, spec as spec_lib

COMPILED_ROOT = "gs://my-bucket/root"

# Sums the imported numbers times the factor; writes the sum into its artifact, the
# artifact's metadata (blessed when positive) and an output parameter.
DOUBLE = r"""
import json, os, sys
ex = json.loads(sys.argv[1])
numbers = ex["inputs"]["artifacts"]["numbers"]["artifacts"][0]["uri"]
factor = ex["inputs"]["parameterValues"]["factor"]
out = ex["outputs"]["artifacts"]["doubled"]["artifacts"][0]
total = sum(int(x) for x in open(os.path.join(numbers, "numbers.txt")).read().split()) * factor
open(os.path.join(out["uri"], "total.txt"), "w").write(str(total))
print("total", total, file=sys.stderr)
import tempfile
open(os.path.join(tempfile.mkdtemp(), "left.txt"), "w").write("left behind")
open(os.path.join(out["uri"], "tempdir.txt"), "w").write(tempfile.gettempdir())
json.dump({"artifacts": {"doubled": {"artifacts": [{"uri": out["uri"], "metadata": {
    "total": total, "blessed": 1 if total > 0 else 0}}]}},
    "parameterValues": {"total": total}}, open(ex["outputs"]["outputFile"], "w"))
"""
# Writes what its placeholders became into its artifact and into the destination folder.
REPORT = r"""
import os, sys
total, metadata_total, out, destination = sys.argv[1:5]
os.makedirs(destination, exist_ok=True)
for folder in (out, destination):
    open(os.path.join(folder, "report.txt"), "w").write(f"{total} {metadata_total}")
"""


def _component(label, inputs=None, outputs=None):
    return {"executorLabel": label, "inputDefinitions": inputs or {},
            "outputDefinitions": outputs or {}}


def _artifacts(**titles):
    return {"artifacts": {key: {"artifactType": {"schemaTitle": title}}
                          for key, title in titles.items()}}


def make_job(numbers_dir):
    """A PipelineJob: importer -> double -> report, and a resolver of the latest blessed sum."""
    components = {
        "importer": _component("importer_executor", outputs=_artifacts(artifact="system.Dataset")),
        "double": _component(
            "double_executor",
            inputs={**_artifacts(numbers="system.Dataset"),
                    "parameters": {"factor": {"parameterType": "NUMBER_INTEGER"}}},
            outputs={**_artifacts(doubled="test.Sum"),
                     "parameters": {"total": {"parameterType": "NUMBER_INTEGER"}}}),
        "report": _component(
            "report_executor",
            inputs={**_artifacts(doubled="test.Sum"),
                    "parameters": {"total": {"parameterType": "NUMBER_INTEGER"},
                                   "destination": {"parameterType": "STRING"}}},
            outputs=_artifacts(report="system.Artifact")),
        "latest": _component("latest_executor", outputs=_artifacts(doubled="test.Sum")),
    }
    executors = {
        "importer_executor": {"importer": {"artifactUri": {"constant": numbers_dir},
                                           "typeSchema": {"schemaTitle": "system.Dataset"}}},
        "double_executor": {"container": {"image": "img", "command": ["python", "-c", DOUBLE],
                                          "args": ["{{$}}"]}},
        "report_executor": {"container": {"image": "img", "command": ["python", "-c", REPORT],
                                          "args": [
                                              "{{$.inputs.parameters['total']}}",
                                              "{{$.inputs.artifacts['doubled'].metadata['total']}}",
                                              "{{$.outputs.artifacts['report'].uri}}",
                                              "{{$.inputs.parameters['destination']}}"]}},
        "latest_executor": {"resolver": {"outputArtifactQueries": {"doubled": {
            "filter": 'schema_title="test.Sum" AND state=LIVE AND '
                      'metadata.blessed.number_value=1'}}}},
    }
    tasks = {
        "importer": {"componentRef": {"name": "importer"}, "taskInfo": {"name": "importer"}},
        "double": {"componentRef": {"name": "double"}, "dependentTasks": ["importer"],
                   "inputs": {"artifacts": {"numbers": {"taskOutputArtifact": {
                       "producerTask": "importer", "outputArtifactKey": "artifact"}}},
                              "parameters": {"factor": {"componentInputParameter": "factor"}}}},
        "report": {"componentRef": {"name": "report"}, "dependentTasks": ["double"],
                   "inputs": {"artifacts": {"doubled": {"taskOutputArtifact": {
                       "producerTask": "double", "outputArtifactKey": "doubled"}}},
                              "parameters": {
                                  "total": {"taskOutputParameter": {
                                      "producerTask": "double", "outputParameterKey": "total"}},
                                  "destination": {"runtimeValue": {
                                      "constant": f"{COMPILED_ROOT}/published"}}}}},
        "latest": {"componentRef": {"name": "latest"}, "taskInfo": {"name": "latest"}},
    }
    pipeline_spec = {
        "pipelineInfo": {"name": "sums"}, "schemaVersion": "2.1.0",
        "defaultPipelineRoot": COMPILED_ROOT, "components": components,
        "deploymentSpec": {"executors": executors},
        "root": {"dag": {"tasks": tasks}, "inputDefinitions": {"parameters": {
            "factor": {"parameterType": "NUMBER_INTEGER", "defaultValue": 2,
                       "isOptional": True}}}},
    }
    return {"pipelineSpec": pipeline_spec, "displayName": "sums",
            "runtimeConfig": {"gcsOutputDirectory": COMPILED_ROOT}}


@pytest.fixture
def numbers(tmp_path):
    folder = tmp_path / "numbers"
    folder.mkdir()
    (folder / "numbers.txt").write_text("1 2 3 4")
    return str(folder)


def write_job(tmp_path, job, name="job.json"):
    path = tmp_path / name
    path.write_text(json.dumps(job))
    return str(path)


def test_tasks_run_in_dag_order_and_hand_on_what_they_wrote(tmp_path, numbers, capsys):
    spec_path = write_job(tmp_path, make_job(numbers))
    root = tmp_path / "local"
    result = runner.run(spec_path, str(root))
    assert [t.name for t in result.tasks] == ["importer", "latest", "double", "report"]
    doubled = result.artifact("double", "doubled")
    assert open(os.path.join(doubled["uri"], "total.txt")).read() == "20"
    assert doubled["metadata"]["total"] == 20 and result.task("double").parameters["total"] == 20
    report = result.artifact("report", "report")
    assert open(os.path.join(report["uri"], "report.txt")).read() == "20 20"
    assert result.artifact("importer", "artifact")["uri"] == numbers
    task_dir = os.path.join(result.run_dir, "double")
    assert "total 20" in open(os.path.join(task_dir, "stderr.log")).read()
    summary = json.load(open(os.path.join(result.run_dir, runner.SUMMARY_FILE)))
    assert [t["name"] for t in summary["tasks"]] == ["importer", "latest", "double", "report"]


def test_each_task_gets_a_temporary_folder_of_its_own_removed_after_it(tmp_path, numbers):
    result = runner.run(write_job(tmp_path, make_job(numbers)), str(tmp_path / "local"))
    doubled = result.artifact("double", "doubled")
    task_temp = open(os.path.join(doubled["uri"], "tempdir.txt")).read()
    assert os.path.dirname(task_temp) == tempfile.gettempdir()
    assert os.path.basename(task_temp).startswith("imagepipe-preflight-task-")
    assert not os.path.exists(task_temp)


def test_constants_under_the_compiled_root_move_under_the_local_root(tmp_path, numbers):
    result = runner.run(write_job(tmp_path, make_job(numbers)), str(tmp_path / "local"))
    assert (tmp_path / "local" / "published" / "report.txt").read_text() == "20 20"
    assert result.parameters == {"factor": 2}
    assert spec_lib.reroot(f'{{"dir": "{COMPILED_ROOT}/serving"}}', COMPILED_ROOT, "/x") == \
        '{"dir": "/x/serving"}'
    assert spec_lib.reroot(f"{COMPILED_ROOT}2/serving", COMPILED_ROOT, "/x") == \
        f"{COMPILED_ROOT}2/serving"


def test_a_runtime_parameter_changes_what_the_task_computes(tmp_path, numbers, capsys):
    spec_path = write_job(tmp_path, make_job(numbers))
    root = str(tmp_path / "local")
    assert cli.main(["preflight", spec_path, "--pipeline-root", root, "--param", "factor=5"]) == 0
    out = capsys.readouterr().out
    assert "pre-flight passed: 4 tasks of sums" in out and "factor=5" in out
    assert (tmp_path / "local" / "published" / "report.txt").read_text() == "50 50"


def test_the_default_pipeline_root_is_under_imagepipe_output(tmp_path, numbers, monkeypatch):
    spec_path = write_job(tmp_path, make_job(numbers))
    monkeypatch.chdir(tmp_path)
    assert cli.main(["preflight", spec_path]) == 0
    assert (tmp_path / "imagepipe-output" / "preflight" / "sums" / "records").is_dir()


def test_resolvers_answer_from_the_records_of_earlier_runs(tmp_path, numbers):
    spec_path = write_job(tmp_path, make_job(numbers))
    root = str(tmp_path / "local")
    first = runner.run(spec_path, root)
    assert first.task("latest").outputs == {"doubled": []}
    second = runner.run(spec_path, root, ["factor=3"])
    assert second.artifact("latest", "doubled") == first.artifact("double", "doubled")
    third = runner.run(spec_path, root, ["factor=0"])  # its sum, 0, is not blessed
    fourth = runner.run(spec_path, root)
    assert third.artifact("latest", "doubled") == second.artifact("double", "doubled")
    assert fourth.artifact("latest", "doubled") == second.artifact("double", "doubled")
    assert third.artifact("double", "doubled")["metadata"] == {"total": 0, "blessed": 0}


def test_a_failing_task_is_named_with_its_command_and_stderr(tmp_path, numbers, capsys):
    job = make_job(str(tmp_path / "nowhere"))
    code = cli.main(["preflight", write_job(tmp_path, job), "--pipeline-root",
                     str(tmp_path / "local")])
    err = capsys.readouterr().err
    assert code == 2
    assert "task double failed: its command exited with 1" in err
    assert "command: python -c" in err and "FileNotFoundError" in err
    assert "numbers.txt" in err and "double/stderr.log" in err
    assert not (tmp_path / "local" / "published").exists()


def test_a_wrong_module_path_fails_before_anything_runs(tmp_path, numbers, capsys):
    job = make_job(numbers)
    container = job["pipelineSpec"]["deploymentSpec"]["executors"]["report_executor"]["container"]
    container["command"] = ["python", "-m", "imagepipe.no_such_module"]
    code = cli.main(["preflight", write_job(tmp_path, job), "--pipeline-root",
                     str(tmp_path / "local")])
    err = capsys.readouterr().err
    assert code == 2
    assert "task report: module imagepipe.no_such_module does not import here" in err
    assert not (tmp_path / "local").exists()


def test_a_parameter_without_a_value_fails_naming_the_task(tmp_path, numbers, capsys):
    job = make_job(numbers)
    del job["pipelineSpec"]["root"]["inputDefinitions"]["parameters"]["factor"]["defaultValue"]
    code = cli.main(["preflight", write_job(tmp_path, job), "--pipeline-root",
                     str(tmp_path / "local")])
    err = capsys.readouterr().err
    assert code == 2
    assert "task double: input parameter factor takes the pipeline parameter factor, " \
           "which has no default: give --param factor=VALUE" in err
    assert not (tmp_path / "local").exists()
    missing_input = make_job(numbers)
    del missing_input["pipelineSpec"]["root"]["dag"]["tasks"]["report"]["inputs"]["parameters"][
        "destination"]
    assert cli.main(["preflight", write_job(tmp_path, missing_input, "b.json"),
                     "--pipeline-root", str(tmp_path / "local")]) == 2
    assert "task report: input parameter destination is required" in capsys.readouterr().err


@pytest.mark.parametrize("param, message", [
    ("epochs=3", "--param epochs: JOB has no runtime parameter epochs; its parameters: factor"),
    ("factor=two", "--param factor=two: not a NUMBER_INTEGER"),
    ("factor", "--param 'factor': expected NAME=VALUE"),
])
def test_bad_parameters_are_named(tmp_path, numbers, capsys, param, message):
    spec_path = write_job(tmp_path, make_job(numbers))
    code = cli.main(["preflight", spec_path, "--pipeline-root", str(tmp_path / "local"),
                     "--param", param])
    assert code == 2
    assert message.replace("JOB", spec_path) in capsys.readouterr().err


def test_missing_and_malformed_specs_are_named(tmp_path, capsys):
    missing = str(tmp_path / "nowhere.json")
    assert cli.main(["preflight", missing]) == 2
    assert f"compiled pipeline spec not found: {missing}" in capsys.readouterr().err
    broken = tmp_path / "broken.json"
    broken.write_text('{"pipelineSpec": ')
    assert cli.main(["preflight", str(broken)]) == 2
    assert f"{broken}: not a JSON/YAML pipeline spec" in capsys.readouterr().err
    no_dag = tmp_path / "no_dag.json"
    no_dag.write_text(json.dumps({"pipelineInfo": {"name": "x"}, "root": {}}))
    assert cli.main(["preflight", str(no_dag)]) == 2
    assert f"{no_dag}: not a compiled pipeline spec (missing 'dag')" in capsys.readouterr().err


def test_placeholders_pick_values_out_of_the_executor_input():
    executor_input = {
        "inputs": {"parameterValues": {"n": 3, "s": "x"},
                   "artifacts": {"a": {"artifacts": [{"uri": "/a", "metadata": {"k": 1.5}}]}}},
        "outputs": {"artifacts": {"b": {"artifacts": [{"uri": "/b"}]}},
                    "parameters": {"p": {"outputFile": "/p"}}, "outputFile": "/o.json"}}
    context = {"pipeline_task_name": "T"}
    resolve = lambda text: placeholders.resolve(text, executor_input, context)  # noqa: E731
    assert json.loads(resolve("{{$}}")) == executor_input
    assert resolve("n={{$.inputs.parameters['n']}} s={{$.inputs.parameters['s']}}") == "n=3 s=x"
    assert resolve("{{$.inputs.artifacts['a'].uri}}:{{$.outputs.artifacts['b'].path}}") == "/a:/b"
    assert resolve("{{$.inputs.artifacts['a'].metadata['k']}}") == "1.5"
    assert resolve("{{$.outputs.parameters['p'].output_file}} {{$.outputs.output_file}}") == \
        "/p /o.json"
    assert resolve("{{$.pipeline_task_name}}") == "T"
    with pytest.raises(placeholders.PlaceholderError, match=r"\{\{\$.inputs.parameters\['m'\]"):
        resolve("{{$.inputs.parameters['m']}}")


def test_submit_preflight_runs_the_spec_first_and_submits_only_if_it_passes(
        tmp_path, numbers, capsys, monkeypatch):
    from imagepipe.pipeline import kubeflow_runner
    spec_path = write_job(tmp_path, make_job(numbers))
    root = tmp_path / "local"
    submit = ["submit", "--project", "p", "--region", "r", "--spec", spec_path]
    assert cli.main(submit + ["--preflight", "--preflight-root", str(root), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "pre-flight passed: 4 tasks of sums" in out and "dry run" in out
    assert (root / "published" / "report.txt").read_text() == "20 20"
    broken = make_job(str(tmp_path / "nowhere"))
    refused = []
    monkeypatch.setattr(kubeflow_runner, "submit_vertex", refused.append)
    code = cli.main(["submit", "--project", "p", "--region", "r", "--preflight",
                     "--preflight-root", str(root), "--spec",
                     write_job(tmp_path, broken, "broken.json")])
    err = capsys.readouterr().err
    assert code == 2 and not refused
    assert "task double failed" in err and "not submitted: the pre-flight failed" in err
    assert cli.main(submit + ["--preflight-root", str(root), "--dry-run"]) == 2
    assert "--preflight-root has no effect without --preflight" in capsys.readouterr().err
