"""Resolves the KFP v2 placeholders of a task's command line against its ExecutorInput.

``{{$}}`` is the whole ExecutorInput as JSON (what TFX's container entrypoint
parses); the others pick one value out of it, as the KFP launcher does:

* ``{{$.inputs.parameters['NAME']}}``
* ``{{$.inputs.artifacts['NAME'].uri}}`` (also ``.path``, ``.metadata``,
  ``.metadata['KEY']``) and the same for ``$.outputs.artifacts``
* ``{{$.outputs.parameters['NAME'].output_file}}``, ``{{$.outputs.output_file}}``
* ``{{$.pipeline_job_name}}``, ``{{$.pipeline_task_name}}``, ``{{$.pipeline_root}}``
  and the other names of ``context``.
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict, List, Mapping

_PLACEHOLDER = re.compile(r"\{\{\$(.*?)\}\}")
_STEP = re.compile(r"\.(\w+)|\['([^']*)'\]|\[\"([^\"]*)\"\]")


class PlaceholderError(ValueError):
    """A placeholder that names nothing in the ExecutorInput; the message quotes it."""


def resolve(text: str, executor_input: Mapping[str, Any], context: Mapping[str, str]) -> str:
    """``text`` with every ``{{$...}}`` placeholder replaced.

    Args:
      text: one command-line argument (or a resolver's filter).
      executor_input: the task's ExecutorInput, in its JSON form.
      context: pipeline-level names (``pipeline_job_name``, ``pipeline_root``...).

    Raises:
      PlaceholderError: a placeholder that cannot be resolved.
    """
    def replace(match: "re.Match[str]") -> str:
        if not match.group(1):
            return json.dumps(executor_input, sort_keys=True)
        try:
            value = _lookup(_steps(match.group(1)), executor_input, context)
        except (KeyError, IndexError, TypeError):
            raise PlaceholderError(f"placeholder {match.group(0)} names nothing "
                                   f"in the task's inputs and outputs") from None
        return value if isinstance(value, str) else json.dumps(value, sort_keys=True)

    return _PLACEHOLDER.sub(replace, text)


def _steps(path: str) -> List[str]:
    steps, position = [], 0
    for match in _STEP.finditer(path):
        if match.start() != position:
            raise PlaceholderError(f"placeholder {{{{${path}}}}} is not understood")
        steps.append(next(group for group in match.groups() if group is not None))
        position = match.end()
    if position != len(path):
        raise PlaceholderError(f"placeholder {{{{${path}}}}} is not understood")
    return steps


def _lookup(steps: List[str], executor_input: Mapping[str, Any],
            context: Mapping[str, str]) -> Any:
    if len(steps) == 1:
        if steps[0] in context:
            return context[steps[0]]
        if steps[0] == "output_file":
            raise KeyError(steps[0])
    side, kind, rest = steps[0], steps[1], steps[2:]
    if side not in ("inputs", "outputs"):
        raise KeyError(side)
    if kind == "output_file" and side == "outputs":
        return executor_input["outputs"]["outputFile"]
    if kind == "parameters" and side == "inputs":
        return executor_input["inputs"]["parameterValues"][rest[0]]
    if kind == "parameters":
        if rest[1:] != ["output_file"]:
            raise KeyError(rest)
        return executor_input["outputs"]["parameters"][rest[0]]["outputFile"]
    if kind == "artifacts":
        artifact = executor_input[side]["artifacts"][rest[0]]["artifacts"][0]
        return _artifact_field(artifact, rest[1:])
    raise KeyError(kind)


def _artifact_field(artifact: Dict[str, Any], rest: List[str]) -> Any:
    if rest in (["uri"], ["path"]):
        return artifact["uri"]
    if rest and rest[0] == "metadata":
        metadata = artifact.get("metadata", {})
        return metadata if len(rest) == 1 else metadata[rest[1]]
    if rest == ["name"]:
        return artifact["name"]
    raise KeyError(rest)
