"""``imagepipe preflight SPEC``: run a compiled Kubeflow/Vertex pipeline spec on this machine.

    imagepipe preflight imagepipe-fashion-mnist.json [--pipeline-root DIR]
                        [--param epochs=2 --param model_name=arch3 ...]

Every task of the spec runs in DAG order as the KFP v2 launcher runs it: its
container command as a subprocess of this environment, with the ExecutorInput
it would get in the cloud, its artifacts under a local pipeline root; importer
and resolver tasks are answered from that root's own records. A failure names
the task, its command and the tail of its stderr (exit 2). ``imagepipe submit
--preflight`` runs the same before it submits.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Mapping, Optional, Sequence, TextIO, Union

DEFAULT_ROOT = os.path.join("imagepipe-output", "preflight")


def register(subparsers) -> None:
    """Adds the ``preflight`` command."""
    parser = subparsers.add_parser(
        "preflight", help="run a compiled pipeline spec here, task by task, before the cloud",
        description="Run the spec written by `imagepipe compile` on this machine as the KFP v2 "
                    "launcher would: each task's container command as a subprocess, its "
                    "artifacts under a local pipeline root, runtime parameters as given.")
    parser.add_argument("spec", metavar="SPEC",
                        help="the compiled spec: a JSON PipelineJob or a YAML PipelineSpec")
    add_root_option(parser, "--pipeline-root")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="a runtime parameter's value (repeatable), e.g. --param epochs=2; "
                             "default: the spec's")
    parser.set_defaults(func=_preflight)


def add_root_option(parser: argparse.ArgumentParser, flag: str,
                    default: Optional[str] = DEFAULT_ROOT, shown: str = DEFAULT_ROOT) -> None:
    """Adds the option of the local pipeline root that pre-flight writes under."""
    parser.add_argument(flag, default=default, metavar="DIR",
                        help=f"local pipeline root for the pre-flight's artifacts, logs and "
                             f"records (earlier runs there answer its resolvers); default "
                             f"./{shown}")


def run_preflight(spec: str, root: str, params: Union[Sequence[str], Mapping[str, Any]],
                  stream: Optional[TextIO] = None) -> Optional[Any]:
    """Runs pre-flight and prints its summary; returns the RunResult, or None after an error.

    The error (a spec that cannot run, a failed task) goes to stderr.
    """
    from imagepipe.pipeline.preflight import runner  # pylint: disable=g-import-not-at-top
    stream = stream or sys.stdout
    try:
        result = runner.run(spec, root, params, stream)
    except runner.PreflightError as error:
        print(f"error: pre-flight of {spec}: {error}", file=sys.stderr)
        return None
    _print_summary(result, stream)
    return result


def _print_summary(result, stream: TextIO) -> None:
    stream.write(f"\npre-flight passed: {len(result.tasks)} tasks of {result.pipeline_name} in "
                 f"{result.seconds:.0f} s\n")
    for task in result.tasks:
        stream.write(f"  {task.name:<55} {task.kind:<9} {task.seconds:8.1f} s\n")
    shown = ", ".join(f"{name}={value!r}" for name, value in sorted(result.parameters.items()))
    stream.write(f"  parameters: {shown or 'none'}\n")
    for task in result.tasks:
        for artifact_list in task.outputs.values():
            for artifact in artifact_list:
                metadata = artifact.get("metadata", {})
                if metadata.get("pushed") == 1 and metadata.get("pushed_destination"):
                    stream.write(f"  pushed by {task.name} to {metadata['pushed_destination']}\n")
    stream.write(f"  run folder: {result.run_dir} (logs per task; summary preflight.json)\n")


def _preflight(args: argparse.Namespace) -> int:
    result = run_preflight(args.spec, args.pipeline_root, args.param)
    return 0 if result is not None else 2
