"""Checks, before any task runs, that the code a compiled spec names imports here.

A container task names its code three ways: the module its command runs
(``python -m MODULE``), TFX's ``--executor_class_path``, and dotted function
paths among its parameters (the Trainer's ``run_fn``, Transform's
``preprocessing_fn``...). One that does not import would fail that task after
every upstream task ran; checked first, it fails at once, naming the task.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from typing import Any, List, Mapping, Sequence

from imagepipe.pipeline.preflight.spec import CONTAINER, PreflightError, Spec, constant

# TFX execution properties that hold a dotted path to a function.
FUNCTION_PARAMETERS = ("run_fn", "trainer_fn", "tuner_fn", "preprocessing_fn",
                       "stats_options_updater_fn", "splits_fn")
_DOTTED = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)+$")


def problems(spec: Spec) -> List[str]:
    """Every code path of ``spec`` that does not import, as ``task T: ...`` lines."""
    found = []
    for task in spec.tasks.values():
        if task.kind != CONTAINER:
            continue
        container = task.executor["container"]
        for label, path, is_module in _code_paths(container, task.inputs.get("parameters", {})):
            problem = _module_problem(path) if is_module else _attribute_problem(path)
            if problem:
                found.append(f"task {task.name}: {label} {path} does not import here: {problem}")
    return found


def check(spec: Spec) -> None:
    """Raises PreflightError listing every code path of ``spec`` that does not import."""
    found = problems(spec)
    if found:
        raise PreflightError("\n".join(found))


def _code_paths(container: Mapping[str, Any], parameters: Mapping[str, Any]):
    for words in (list(container.get("command", [])) + list(container.get("args", [])),
                  _lifecycle_words(container)):
        yield from _words_paths(words)
    for name in FUNCTION_PARAMETERS:
        value = parameters.get(name, {}).get("runtimeValue")
        path = constant(value) if value else None
        if isinstance(path, str) and _DOTTED.match(path):
            yield name, path, False


def _lifecycle_words(container: Mapping[str, Any]) -> List[str]:
    driver = container.get("lifecycle", {}).get("preCacheCheck", {})
    return list(driver.get("command", [])) + list(driver.get("args", []))


def _words_paths(words: Sequence[str]):
    for index, word in enumerate(words[:-1]):
        following = words[index + 1]
        if word == "-m" and index > 0:
            yield "module", following, True
        elif word == "--executor_class_path":
            yield "--executor_class_path", following, False


def _module_problem(module: str) -> str:
    try:
        found = importlib.util.find_spec(module)
    except (ImportError, ValueError) as error:
        return str(error)
    return "" if found else f"no module named {module!r}"


def _attribute_problem(path: str) -> str:
    module_name, _, attribute = path.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        return str(error)
    except Exception as error:  # pylint: disable=broad-except
        return f"{type(error).__name__}: {error}"
    return "" if hasattr(module, attribute) else f"module {module_name} has no {attribute!r}"
