"""Runs one container task of a compiled spec as a subprocess, as the KFP v2 launcher runs it.

The launcher gives the container its ExecutorInput (``{{$}}``): the input
parameters, the input artifacts the upstream tasks wrote, and output artifact
URIs under the task's folder of the pipeline root; it runs the task's
pre-cache driver first where the spec has one (file-based ExampleGen's span
and fingerprint), then the command; afterwards it reads the executor output
file the container wrote (artifact metadata, output parameters). Here the
command runs in this Python environment: the image is built from the same code
and pins (Dockerfile). Its stdout and stderr are kept in the task's folder.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, List, Mapping, Sequence

from imagepipe.pipeline.preflight import placeholders
from imagepipe.pipeline.preflight.spec import PreflightError, Task

EXECUTOR_OUTPUT = "executor_output.json"
STDOUT_LOG, STDERR_LOG = "stdout.log", "stderr.log"
TAIL_LINES = 25
_PYTHONS = ("python", "python3", "python3.10")

Artifacts = Dict[str, List[Dict[str, Any]]]


def executor_input(task: Task, parameters: Mapping[str, Any], inputs: Artifacts,
                   outputs: Artifacts, task_dir: str) -> Dict[str, Any]:
    """The task's ExecutorInput in its JSON form (what ``{{$}}`` becomes)."""
    output_parameters = task.component.get("outputDefinitions", {}).get("parameters", {})
    return {
        "inputs": {"parameterValues": dict(parameters),
                   "artifacts": {key: {"artifacts": value} for key, value in inputs.items()}},
        "outputs": {"artifacts": {key: {"artifacts": value} for key, value in outputs.items()},
                    "parameters": {key: {"outputFile": f"{task_dir}/parameters/{key}"}
                                   for key in output_parameters},
                    "outputFile": f"{task_dir}/{EXECUTOR_OUTPUT}"},
    }


def command_line(container: Mapping[str, Any], resolved: Dict[str, Any],
                 context: Mapping[str, str]) -> List[str]:
    """The container's command and arguments with every placeholder resolved.

    A leading ``python`` is this interpreter: the one whose environment has the
    image's packages.
    """
    words = list(container.get("command", [])) + list(container.get("args", []))
    words = [placeholders.resolve(word, resolved, context) for word in words]
    if words and words[0] in _PYTHONS:
        words[0] = sys.executable
    return words


def shown(container: Mapping[str, Any], limit: int = 160) -> str:
    """The unresolved command line, each long argument cut, for error messages."""
    words = list(container.get("command", [])) + list(container.get("args", []))
    return " ".join(shlex.quote(w if len(w) <= limit else w[:limit] + "...") for w in words)


def run(task: Task, resolved: Dict[str, Any], task_dir: str,
        context: Mapping[str, str]) -> Dict[str, Any]:
    """Runs the task's pre-cache driver (if any) and its command; returns its executor output.

    Args:
      task: a container task.
      resolved: its ExecutorInput (see :func:`executor_input`); the driver's
        output artifact metadata is merged into it before the command runs.
      task_dir: the task's folder under the pipeline root (logs, executor output).
      context: pipeline-level placeholder values.

    Raises:
      PreflightError: the driver or the command failed: the task, the command,
        the log and the tail of its stderr.
    """
    container = task.executor["container"]
    _prepare_outputs(resolved)
    driver = container.get("lifecycle", {}).get("preCacheCheck")
    with _Logs(task_dir) as logs:
        if driver:
            _run_step(task, "pre-cache driver", driver, resolved, context, logs)
            _merge_artifacts(resolved, read_output(resolved))
        _run_step(task, "command", container, resolved, context, logs)
    return read_output(resolved)


def _prepare_outputs(resolved: Dict[str, Any]) -> None:
    """Creates the output artifacts' folders, as the KFP launcher does before a task."""
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    for artifact_list in resolved["outputs"]["artifacts"].values():
        for artifact in artifact_list["artifacts"]:
            tf.io.gfile.makedirs(artifact["uri"])


def _run_step(task: Task, step: str, container: Mapping[str, Any], resolved: Dict[str, Any],
              context: Mapping[str, str], logs: "_Logs") -> None:
    try:
        words = command_line(container, resolved, context)
    except placeholders.PlaceholderError as error:
        raise PreflightError(f"task {task.name}: {error}") from None
    logs.stderr.write(f"--- pre-flight: {step} of task {task.name}\n".encode())
    logs.stderr.flush()
    started = time.monotonic()
    try:
        # A container's /tmp is its own and goes with it: TFX's Beam executors leave a
        # 49 MB copy of tfx there for each task (decision 0024).
        with tempfile.TemporaryDirectory(prefix="imagepipe-preflight-task-") as scratch:
            code = subprocess.call(words, stdout=logs.stdout, stderr=logs.stderr,
                                   env=dict(os.environ, PYTHONUNBUFFERED="1", TMPDIR=scratch))
    except OSError as error:
        raise PreflightError(f"task {task.name}: its {step} cannot start: {error}\n"
                             f"  command: {shown(container)}") from None
    if code != 0:
        raise PreflightError(
            f"task {task.name} failed: its {step} exited with {code} after "
            f"{time.monotonic() - started:.1f} s\n  command: {shown(container)}\n"
            f"  log: {logs.final_path(STDERR_LOG)}\n"
            f"  stderr (last lines):\n{logs.tail()}")


def read_output(resolved: Mapping[str, Any]) -> Dict[str, Any]:
    """The executor output the task wrote (``{}`` when it wrote none)."""
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    path = resolved["outputs"]["outputFile"]
    if not tf.io.gfile.exists(path):
        return {}
    with tf.io.gfile.GFile(path) as f:
        text = f.read()
    try:
        return json.loads(text) if text.strip() else {}
    except ValueError as error:
        raise PreflightError(f"{path}: the executor output is not JSON ({error})") from None


def _merge_artifacts(resolved: Dict[str, Any], output: Mapping[str, Any]) -> None:
    """Takes the metadata an executor output gives its output artifacts into ``resolved``."""
    for key, artifact_list in output.get("artifacts", {}).items():
        declared = resolved["outputs"]["artifacts"].get(key, {}).get("artifacts", [])
        for mine, written in zip(declared, artifact_list.get("artifacts", [])):
            mine.setdefault("metadata", {}).update(written.get("metadata", {}))
            mine["uri"] = written.get("uri") or mine["uri"]


def task_outputs(resolved: Dict[str, Any], output: Mapping[str, Any]) -> Artifacts:
    """The task's output artifacts as written: declared names and types, written metadata."""
    _merge_artifacts(resolved, output)
    return {key: value["artifacts"] for key, value in resolved["outputs"]["artifacts"].items()}


def output_parameters(resolved: Mapping[str, Any], output: Mapping[str, Any]) -> Dict[str, Any]:
    """The task's output parameters: from its executor output, else from their files."""
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    values = dict(output.get("parameterValues", {}))
    for key, spec in resolved["outputs"].get("parameters", {}).items():
        if key not in values and tf.io.gfile.exists(spec["outputFile"]):
            with tf.io.gfile.GFile(spec["outputFile"]) as f:
                values[key] = f.read()
    return values


class _Logs:
    """The task's stdout and stderr files: in its folder, or copied there when remote."""

    def __init__(self, task_dir: str):
        self._task_dir = task_dir
        self._remote = "://" in task_dir
        self._folder = tempfile.mkdtemp(prefix="preflight-") if self._remote else task_dir
        os.makedirs(self._folder, exist_ok=True)
        self.stdout = open(os.path.join(self._folder, STDOUT_LOG), "ab")
        self.stderr = open(os.path.join(self._folder, STDERR_LOG), "ab")

    def __enter__(self) -> "_Logs":
        return self

    def __exit__(self, *exc_info) -> None:
        self.stdout.close()
        self.stderr.close()
        if self._remote:
            import tensorflow as tf  # pylint: disable=g-import-not-at-top
            for name in (STDOUT_LOG, STDERR_LOG):
                tf.io.gfile.copy(os.path.join(self._folder, name),
                                 f"{self._task_dir}/{name}", overwrite=True)

    def final_path(self, name: str) -> str:
        return f"{self._task_dir}/{name}"

    def tail(self, lines: int = TAIL_LINES) -> str:
        """The last ``lines`` lines of stderr, indented."""
        self.stderr.flush()
        with open(os.path.join(self._folder, STDERR_LOG), "rb") as f:
            text = f.read()[-64 * 1024:].decode("utf-8", errors="replace")
        return "\n".join("    " + line for line in text.splitlines()[-lines:])


