"""Reads a compiled PipelineSpec for pre-flight: its tasks in DAG order and their parameters.

A task's parameters come from constants compiled in, from the pipeline's
runtime parameters (``componentInputParameter``: ``--param`` values over the
compiled defaults) or from an upstream task's output parameters. Everything a
task needs is checked before the first task runs, so a spec that cannot run
fails at once, naming the task.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any, Dict, List, Mapping, Optional, Sequence, Set

CONTAINER, IMPORTER, RESOLVER = "container", "importer", "resolver"


class PreflightError(Exception):
    """A spec that cannot run, or a task that failed; the message names the culprit."""


@dataclasses.dataclass(frozen=True)
class Task:
    """One task of the pipeline's DAG, with its component and executor definitions."""

    name: str
    definition: Dict[str, Any]
    component: Dict[str, Any]
    executor: Dict[str, Any]

    @property
    def kind(self) -> str:
        """``container``, ``importer`` or ``resolver``: what runs the task."""
        for kind in (CONTAINER, IMPORTER, RESOLVER):
            if kind in self.executor:
                return kind
        raise PreflightError(f"task {self.name}: executor kind {sorted(self.executor)} is not "
                             f"supported (container, importer, resolver)")

    @property
    def inputs(self) -> Dict[str, Any]:
        return self.definition.get("inputs", {})

    def upstream(self) -> Set[str]:
        """The tasks this one waits for: its dependencies and the producers of its inputs."""
        found = set(self.definition.get("dependentTasks", []))
        for spec in self.inputs.get("artifacts", {}).values():
            found.add(spec.get("taskOutputArtifact", {}).get("producerTask"))
        for spec in self.inputs.get("parameters", {}).values():
            found.add(spec.get("taskOutputParameter", {}).get("producerTask"))
        return found - {None}

    def artifact_types(self, side: str) -> Dict[str, Dict[str, Any]]:
        """The artifact type of each input (``side="input"``) or output artifact."""
        definitions = self.component.get(f"{side}Definitions", {}).get("artifacts", {})
        return {key: value.get("artifactType", {}) for key, value in definitions.items()}


@dataclasses.dataclass(frozen=True)
class Spec:
    """A compiled pipeline: its name, compiled root, runtime parameters and tasks."""

    path: str
    name: str
    compiled_root: Optional[str]
    parameters: Dict[str, Dict[str, Any]]
    tasks: Dict[str, Task]


def load(path: str) -> Spec:
    """Reads the spec at ``path`` (a PipelineJob JSON or a PipelineSpec YAML).

    Raises:
      PreflightError: the file is missing, malformed or not a flat TFX DAG.
    """
    from imagepipe.pipeline import kubeflow_runner  # pylint: disable=g-import-not-at-top
    try:
        job = kubeflow_runner.read_spec(path)
        pipeline_spec = job["pipelineSpec"]
        name = pipeline_spec["pipelineInfo"]["name"]
        tasks = {task_name: _task(pipeline_spec, task_name, definition)
                 for task_name, definition in pipeline_spec["root"]["dag"]["tasks"].items()}
    except (FileNotFoundError, ValueError) as error:
        raise PreflightError(str(error)) from None
    except (KeyError, TypeError) as error:
        raise PreflightError(f"{path}: not a compiled pipeline spec (missing {error})") from None
    definitions = pipeline_spec["root"].get("inputDefinitions", {}).get("parameters", {})
    return Spec(path=path, name=name, compiled_root=kubeflow_runner.pipeline_root(job),
                parameters=dict(definitions), tasks=tasks)


def _task(pipeline_spec: Dict[str, Any], name: str, definition: Dict[str, Any]) -> Task:
    component_name = definition.get("componentRef", {}).get("name")
    component = pipeline_spec.get("components", {}).get(component_name)
    if component is None:
        raise PreflightError(f"task {name}: component {component_name!r} is not in the spec")
    if "dag" in component:
        raise PreflightError(f"task {name}: nested DAGs are not supported by pre-flight")
    executors = pipeline_spec.get("deploymentSpec", {}).get("executors", {})
    executor = executors.get(component.get("executorLabel"))
    if executor is None:
        raise PreflightError(f"task {name}: executor {component.get('executorLabel')!r} is "
                             f"not in the spec's deploymentSpec")
    if "triggerPolicy" in definition:
        raise PreflightError(f"task {name}: trigger policies (conditions) are not supported")
    return Task(name=name, definition=definition, component=component, executor=executor)


def order(spec: Spec) -> List[Task]:
    """The tasks in DAG order: every task after its upstream tasks; ties by name.

    Raises:
      PreflightError: a task waits for a task the spec lacks, or the DAG has a cycle.
    """
    waiting = {name: task.upstream() for name, task in spec.tasks.items()}
    for name, upstream in waiting.items():
        unknown = sorted(upstream - set(spec.tasks))
        if unknown:
            raise PreflightError(f"task {name} depends on {', '.join(unknown)}, not in the spec")
    ordered: List[Task] = []
    while waiting:
        ready = sorted(name for name, upstream in waiting.items() if not upstream)
        if not ready:
            raise PreflightError(f"the DAG has a cycle among {', '.join(sorted(waiting))}")
        for name in ready:
            ordered.append(spec.tasks[name])
            del waiting[name]
        for upstream in waiting.values():
            upstream.difference_update(ready)
    return ordered


def _parse_bool(text: str) -> bool:
    if text.lower() in ("true", "1", "yes"):
        return True
    if text.lower() in ("false", "0", "no"):
        return False
    raise ValueError(f"not a boolean: {text!r}")


def _parse_json(text: str) -> Any:
    return json.loads(text)


_PARSERS = {"NUMBER_INTEGER": int, "INT": int, "NUMBER_DOUBLE": float, "DOUBLE": float,
            "STRING": str, "BOOLEAN": _parse_bool, "LIST": _parse_json, "STRUCT": _parse_json}


def parameter_values(spec: Spec, given: Sequence[str]) -> Dict[str, Any]:
    """The runtime parameters: the compiled defaults, overridden by ``NAME=VALUE`` strings.

    Raises:
      PreflightError: a malformed ``NAME=VALUE``, an unknown name or a value
        of the wrong type; the message names the parameter.
    """
    values = {name: definition["defaultValue"] for name, definition in spec.parameters.items()
              if "defaultValue" in definition}
    for item in given:
        name, separator, text = item.partition("=")
        if not separator or not name:
            raise PreflightError(f"--param {item!r}: expected NAME=VALUE")
        values[name] = _typed(spec, name, text)
    return values


def typed_values(spec: Spec, overrides: Mapping[str, Any]) -> Dict[str, Any]:
    """:func:`parameter_values` with values already typed (``submit``'s runtime options).

    Raises:
      PreflightError: an unknown name or a value of the wrong type.
    """
    values = parameter_values(spec, [])
    for name, value in overrides.items():
        _typed(spec, name, str(value))
        values[name] = value
    return values


def _typed(spec: Spec, name: str, text: str) -> Any:
    if name not in spec.parameters:
        raise PreflightError(f"--param {name}: {spec.path} has no runtime parameter {name}; "
                             f"its parameters: {', '.join(sorted(spec.parameters)) or 'none'}")
    kind = spec.parameters[name].get("parameterType", spec.parameters[name].get("type", "STRING"))
    try:
        return _PARSERS.get(kind, str)(text)
    except ValueError as error:
        raise PreflightError(f"--param {name}={text}: not a {kind} ({error})") from None


def constant(value: Dict[str, Any]) -> Any:
    """The value of a ``runtimeValue``: ``constant`` (schema 2.1) or ``constantValue``."""
    if "constant" in value:
        return value["constant"]
    old = value.get("constantValue", {})
    for key in ("intValue", "doubleValue", "stringValue"):
        if key in old:
            return int(old[key]) if key == "intValue" else old[key]
    raise PreflightError(f"unsupported runtime value {value}")


def task_parameters(task: Task, values: Mapping[str, Any],
                    produced: Mapping[str, Mapping[str, Any]]) -> Dict[str, Any]:
    """The values of ``task``'s input parameters.

    Args:
      task: the task.
      values: the pipeline's runtime parameters.
      produced: output parameters of the tasks run so far, by task and key.

    Raises:
      PreflightError: a parameter without a value, naming the task.
    """
    resolved = {}
    for name, spec in task.inputs.get("parameters", {}).items():
        resolved[name] = _parameter(task, name, spec, values, produced)
    for name, definition in task.component.get("inputDefinitions", {}).get(
            "parameters", {}).items():
        if name not in resolved and "defaultValue" in definition:
            resolved[name] = definition["defaultValue"]
        elif name not in resolved and not definition.get("isOptional"):
            raise PreflightError(f"task {task.name}: input parameter {name} is required by its "
                                 f"component but the spec gives it no value")
    return resolved


def _parameter(task: Task, name: str, spec: Dict[str, Any], values: Mapping[str, Any],
               produced: Mapping[str, Mapping[str, Any]]) -> Any:
    if "runtimeValue" in spec:
        return constant(spec["runtimeValue"])
    if "componentInputParameter" in spec:
        parameter = spec["componentInputParameter"]
        if parameter not in values:
            raise PreflightError(f"task {task.name}: input parameter {name} takes the pipeline "
                                 f"parameter {parameter}, which has no default: give --param "
                                 f"{parameter}=VALUE")
        return values[parameter]
    if "taskOutputParameter" in spec:
        source = spec["taskOutputParameter"]
        producer, key = source.get("producerTask"), source.get("outputParameterKey")
        if key not in produced.get(producer, {}):
            raise PreflightError(f"task {task.name}: input parameter {name} takes output "
                                 f"{key} of task {producer}, which did not write it")
        return produced[producer][key]
    raise PreflightError(f"task {task.name}: input parameter {name} has an unsupported "
                         f"source {sorted(spec)}")


def check(spec: Spec, values: Mapping[str, Any]) -> None:
    """Checks, before anything runs, that every task gets every parameter it needs.

    Output parameters of upstream tasks are taken as given (they exist only
    once those tasks ran).

    Raises:
      PreflightError: the first task that lacks a parameter, named.
    """
    for task in order(spec):
        upstream_outputs = {}
        for source in task.inputs.get("parameters", {}).values():
            output = source.get("taskOutputParameter")
            if output:
                upstream_outputs.setdefault(output.get("producerTask"), {})[
                    output.get("outputParameterKey")] = None
        task_parameters(task, values, upstream_outputs)


def reroot(value: Any, compiled_root: Optional[str], local_root: str) -> Any:
    """``value`` with paths under the compiled pipeline root moved under the local one.

    Pre-flight writes nothing where the cloud run will: a string constant
    (the Pusher's serving folder under ``PIPELINE_ROOT/serving``, say) that
    names the compiled root names the local root instead.
    """
    if not isinstance(value, str) or not compiled_root or compiled_root == local_root:
        return value
    pattern = re.escape(compiled_root.rstrip("/")) + r'(?=/|"|$)'
    return re.sub(pattern, lambda _: local_root.rstrip("/"), value)
