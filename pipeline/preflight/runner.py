"""Runs a whole compiled spec on this machine: every task in DAG order, each timed and logged.

Layout under the local pipeline root (``tf.io.gfile``: it may be ``gs://``)::

    ROOT/PIPELINE/RUN_ID/TASK/OUTPUT_KEY/     the task's output artifacts
    ROOT/PIPELINE/RUN_ID/TASK/executor_output.json, stdout.log, stderr.log
    ROOT/PIPELINE/RUN_ID/preflight.json       tasks, seconds, outputs, parameters
    ROOT/PIPELINE/records/                    every artifact written (resolvers read them)

String constants that name the compiled pipeline root (the Pusher's serving
folder, by default under it) name the local root instead.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import sys
import time
from typing import Any, Dict, List, Mapping, Optional, Sequence, TextIO, Union

from imagepipe.pipeline.preflight import code_paths, launcher, placeholders
from imagepipe.pipeline.preflight import spec as spec_lib
from imagepipe.pipeline.preflight.records import Records, schema_title
from imagepipe.pipeline.preflight.spec import PreflightError, Spec, Task

SUMMARY_FILE = "preflight.json"
Artifacts = launcher.Artifacts


@dataclasses.dataclass
class TaskResult:
    """One task of a pre-flight run: what ran it, how long, what it handed downstream."""

    name: str
    kind: str
    seconds: float
    outputs: Artifacts
    parameters: Dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class RunResult:
    """A finished pre-flight run."""

    spec_path: str
    pipeline_name: str
    run_id: str
    run_dir: str
    parameters: Dict[str, Any]
    tasks: List[TaskResult]
    seconds: float

    def task(self, name: str) -> TaskResult:
        return next(result for result in self.tasks if result.name == name)

    def artifact(self, task: str, key: str) -> Optional[Dict[str, Any]]:
        """The first artifact of output ``key`` of ``task``, or None."""
        found = self.task(task).outputs.get(key) or [None]
        return found[0]

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)


def run(spec_path: str, root: str, params: Union[Sequence[str], Mapping[str, Any]] = (),
        stream: Optional[TextIO] = None) -> RunResult:
    """Runs the compiled spec at ``spec_path`` with its artifacts under ``root``.

    Args:
      spec_path: a spec written by ``imagepipe compile`` (local or ``gs://``).
      root: the local pipeline root.
      params: ``NAME=VALUE`` strings, or typed values by name, over the
        compiled defaults of the runtime parameters.
      stream: where the progress lines go; default stdout.

    Raises:
      PreflightError: the spec cannot run, or a task failed; the message
        names the task (and for a failed command, its command and stderr).
    """
    spec = spec_lib.load(spec_path)
    values = (spec_lib.typed_values(spec, params) if isinstance(params, Mapping)
              else spec_lib.parameter_values(spec, params))
    spec_lib.check(spec, values)
    code_paths.check(spec)
    run = _Run(spec, root.rstrip("/"), values, stream or sys.stdout)
    return run.execute()


class _Run:
    """The state of one run: what each task produced so far."""

    def __init__(self, spec: Spec, root: str, values: Dict[str, Any], stream: TextIO):
        self.spec, self.root, self.values, self.stream = spec, root, values, stream
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d-%H%M%S-%f")
        self.run_id = f"preflight-{stamp}"
        self.run_dir = f"{root}/{spec.name}/{self.run_id}"
        self.records = Records(root, spec.name)
        self.artifacts: Dict[str, Artifacts] = {}
        self.parameters: Dict[str, Dict[str, Any]] = {}
        self.results: List[TaskResult] = []
        self.started = time.monotonic()

    def execute(self) -> RunResult:
        self._say(f"pre-flight {self.spec.path}: run {self.run_id} under {self.root}")
        for task in spec_lib.order(self.spec):
            started = time.monotonic()
            self._say(f"▶ {task.name} started ({task.kind})")
            outputs = self._dispatch(task)
            self.artifacts[task.name] = outputs
            result = TaskResult(task.name, task.kind, time.monotonic() - started, outputs,
                                self.parameters.get(task.name, {}))
            self.results.append(result)
            self._say(f"✔ {task.name} finished in {result.seconds:.1f} s{_found(task, outputs)}")
        result = RunResult(self.spec.path, self.spec.name, self.run_id, self.run_dir,
                           self.values, self.results, time.monotonic() - self.started)
        _write(f"{self.run_dir}/{SUMMARY_FILE}", result.to_json())
        return result

    def _say(self, text: str) -> None:
        self.stream.write(f"[{time.monotonic() - self.started:7.1f} s] {text}\n")
        self.stream.flush()

    def _context(self, task: Task) -> Dict[str, str]:
        return {"pipeline_job_name": self.run_id, "pipeline_job_uuid": self.run_id,
                "pipeline_task_name": task.name, "pipeline_task_uuid": f"{self.run_id}-{task.name}",
                "pipeline_root": self.root}

    def _dispatch(self, task: Task) -> Artifacts:
        inputs = self._inputs(task)
        if task.kind == spec_lib.RESOLVER:
            return self._resolver(task, inputs)
        parameters = {name: spec_lib.reroot(value, self.spec.compiled_root, self.root)
                      for name, value in spec_lib.task_parameters(
                          task, self.values, self.parameters).items()}
        if task.kind == spec_lib.IMPORTER:
            return self._importer(task, parameters)
        return self._container(task, parameters, inputs)

    def _inputs(self, task: Task) -> Artifacts:
        types = task.artifact_types("input")
        inputs = {}
        for key, source in task.inputs.get("artifacts", {}).items():
            output = source.get("taskOutputArtifact")
            if not output:
                raise PreflightError(f"task {task.name}: input artifact {key} is not an "
                                     f"upstream task's output ({sorted(source)})")
            produced = self.artifacts[output["producerTask"]].get(output["outputArtifactKey"])
            if produced is None:
                raise PreflightError(f"task {task.name}: task {output['producerTask']} has "
                                     f"no output {output['outputArtifactKey']}")
            inputs[key] = [dict(artifact, type=types.get(key) or artifact["type"])
                           for artifact in produced]
        return inputs

    def _declared_outputs(self, task: Task, task_dir: str) -> Artifacts:
        return {key: [{"name": f"preflight/{self.spec.name}/{self.run_id}/{task.name}/{key}",
                       "type": artifact_type, "uri": f"{task_dir}/{key}", "metadata": {}}]
                for key, artifact_type in task.artifact_types("output").items()}

    def _container(self, task: Task, parameters: Dict[str, Any], inputs: Artifacts) -> Artifacts:
        task_dir = f"{self.run_dir}/{task.name}"
        resolved = launcher.executor_input(task, parameters, inputs,
                                           self._declared_outputs(task, task_dir), task_dir)
        output = launcher.run(task, resolved, task_dir, self._context(task))
        outputs = launcher.task_outputs(resolved, output)
        self.parameters[task.name] = launcher.output_parameters(resolved, output)
        self._record(task, outputs)
        return outputs

    def _record(self, task: Task, outputs: Artifacts) -> None:
        for key, artifact_list in outputs.items():
            for artifact in artifact_list:
                self.records.add(self.run_id, task.name, key, artifact)

    def _resolver(self, task: Task, inputs: Artifacts) -> Artifacts:
        queries = task.executor["resolver"].get("outputArtifactQueries", {})
        if any(not artifact_list for artifact_list in inputs.values()):
            return {key: [] for key in queries}  # an upstream resolver found nothing
        resolved = {"inputs": {"artifacts": {k: {"artifacts": v} for k, v in inputs.items()},
                               "parameterValues": {}}, "outputs": {}}
        outputs = {}
        for key, query in queries.items():
            try:
                text = placeholders.resolve(query.get("filter", ""), resolved,
                                            self._context(task))
                outputs[key] = self.records.find(text, int(query.get("limit", 1)))
            except ValueError as error:
                raise PreflightError(f"task {task.name}: {error}") from None
        return outputs

    def _importer(self, task: Task, parameters: Dict[str, Any]) -> Artifacts:
        importer = task.executor["importer"]
        uri_spec = importer.get("artifactUri", {})
        if "runtimeParameter" in uri_spec:
            uri = parameters.get(uri_spec["runtimeParameter"])
        else:
            uri = spec_lib.reroot(spec_lib.constant(uri_spec), self.spec.compiled_root, self.root)
        if not isinstance(uri, str) or not uri:
            raise PreflightError(f"task {task.name}: the importer has no artifact URI")
        artifact_type = importer.get("typeSchema", {})
        reused = None if importer.get("reimport") else self.records.by_uri(
            uri, schema_title(artifact_type))
        key = next(iter(task.artifact_types("output")), "artifact")
        artifact = reused or {"name": f"preflight/{self.spec.name}/{self.run_id}/{task.name}/{key}",
                              "type": artifact_type, "uri": uri,
                              "metadata": dict(importer.get("metadata", {}))}
        if not reused:
            self.records.add(self.run_id, task.name, key, artifact)
        return {key: [artifact]}


def _found(task: Task, outputs: Artifacts) -> str:
    if task.kind == spec_lib.CONTAINER:
        return ""
    counts = ", ".join(f"{key}: {len(value)}" for key, value in outputs.items())
    return f" ({counts or 'no outputs'})"


def _write(path: str, text: str) -> None:
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    tf.io.gfile.makedirs(path.rsplit("/", 1)[0])
    with tf.io.gfile.GFile(path, "w") as f:
        f.write(text)
