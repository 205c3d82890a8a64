"""Benchmark: wall time of the data components with 1 vs 2 Beam workers.

Runs the pipeline of ``create_pipeline`` up to Transform (ExampleGen,
StatisticsGen, SchemaGen, Transform; a partial run, the Trainer and later
components are left out) on the real data, once per Beam setting, each in its
own process with a fresh output folder and the cache off, and prints the
wall time of every component side by side, with the CPU seconds it used (its
process and the Beam worker processes it waited for) and the 1-minute load
average before and after, since the machine may be shared:

* ``in_memory``: FnApiRunner in the calling process (1 worker, no pickling
  between processes);
* ``1 worker``: ``multi_processing`` with one worker process;
* ``2 workers``: ``multi_processing`` with two worker processes.

    python bench/beam_workers_bench.py [--data-dir DIR] [--settings in_memory,1,2]

Figures, not assertions: on a shared machine other processes add noise.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Tuple

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

LAST_NODE = "Transform"
SETTINGS = {"in_memory": ("in_memory", 1), "1": ("multi_processing", 1),
            "2": ("multi_processing", 2)}
LABELS = {"in_memory": "in_memory", "1": "1 worker", "2": "2 workers"}


def _cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


class ComponentTimer(logging.Handler):
    """Records each component's wall time and CPU seconds from the runner's log records."""

    def __init__(self):
        super().__init__(level=logging.INFO)
        self.seconds: Dict[str, float] = {}
        self.cpu_seconds: Dict[str, float] = {}
        self._started: Dict[str, Tuple[float, float]] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == "Component %s is running.":
            self._started[str(record.args[0])] = (time.perf_counter(), _cpu_seconds())
        elif record.msg == "Component %s is finished.":
            node = str(record.args[0])
            wall, cpu = self._started[node]
            self.seconds[node] = time.perf_counter() - wall
            self.cpu_seconds[node] = _cpu_seconds() - cpu


def run_data_components(data_dir: str, beam_args: Tuple[str, ...]) -> dict:
    """Runs the pipeline up to Transform with ``beam_args``; returns seconds per component."""
    from tfx.dsl.compiler import compiler  # pylint: disable=g-import-not-at-top
    from tfx.orchestration.local import local_dag_runner  # pylint: disable=g-import-not-at-top
    from tfx.proto.orchestration import pipeline_pb2  # pylint: disable=g-import-not-at-top
    from imagepipe.components.sources.fashion_mnist import FashionMnistSettings  # noqa
    from imagepipe.pipeline import config as config_lib, local_runner  # noqa
    from imagepipe.pipeline.pipeline import create_pipeline  # noqa
    output = tempfile.mkdtemp(prefix="imagepipe-beam-bench-")
    config = config_lib.PipelineConfig(
        pipeline_name="imagepipe-beam-bench", pipeline_root=f"{output}/pipeline_root",
        serving_dir=f"{output}/serving", metadata_path=f"{output}/metadata.sqlite",
        data=FashionMnistSettings(source="idx", data_dir=data_dir),
        beam_pipeline_args=beam_args, code_fingerprint="bench", enable_cache=False)
    timer = ComponentTimer()
    local_runner.configure_logging(f"{output}/bench.log", timer)
    ir = compiler.Compiler().compile(create_pipeline(config))
    snapshot = pipeline_pb2.SnapshotSettings(
        latest_pipeline_run_strategy=pipeline_pb2.SnapshotSettings.LatestPipelineRunStrategy())
    options = pipeline_pb2.RunOptions(partial_run=pipeline_pb2.PartialRun(
        to_nodes=[LAST_NODE], snapshot_settings=snapshot))
    load_before, start = os.getloadavg()[0], time.perf_counter()
    local_dag_runner.LocalDagRunner().run_with_ir(ir, run_options=options)
    return {"total_seconds": time.perf_counter() - start, "component_seconds": timer.seconds,
            "component_cpu_seconds": timer.cpu_seconds,
            "load_average": [load_before, os.getloadavg()[0]],
            "beam_args": list(beam_args), "log": f"{output}/bench.log"}


def _beam_args(setting: str) -> Tuple[str, ...]:
    from imagepipe.pipeline import beam_options  # pylint: disable=g-import-not-at-top
    mode, workers = SETTINGS[setting]
    return beam_options.direct_args(workers, running_mode=mode)


def _child(setting: str, data_dir: str) -> dict:
    command = [sys.executable, __file__, "--child", setting, "--data-dir", data_dir]
    completed = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def _print_report(results: Dict[str, dict], data_dir: str) -> None:
    settings = list(results)
    nodes: List[str] = []
    for result in results.values():
        nodes += [n for n in result["component_seconds"] if n not in nodes]
    print(f"\nBeam workers benchmark: pipeline up to {LAST_NODE}, data {data_dir}, "
          f"{os.cpu_count()} cores, cache off")
    print(f"  {'wall s (CPU s)':24s}" + "".join(f"{LABELS[s]:>18s}" for s in settings))
    for node in nodes + ["total"]:
        cells = [_cell(r, node) for r in results.values()]
        print(f"  {node:24s}" + "".join(f"{c:>18s}" for c in cells))
    for setting, result in results.items():
        before, after = result["load_average"]
        print(f"  {LABELS[setting]}: {' '.join(result['beam_args'])}; "
              f"load average {before:.1f} before, {after:.1f} after")


def _cell(result: dict, node: str) -> str:
    if node == "total":
        return f"{result['total_seconds']:.1f}"
    wall = result["component_seconds"].get(node)
    cpu = result["component_cpu_seconds"].get(node)
    return "-" if wall is None else f"{wall:.1f} ({cpu:.1f})"


def main() -> int:
    """Runs every setting in its own process and prints the figures side by side."""
    from imagepipe.data import fashion_mnist  # pylint: disable=g-import-not-at-top
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=fashion_mnist.default_data_dir())
    parser.add_argument("--settings", default="in_memory,1,2",
                        help=f"comma-separated, from {', '.join(SETTINGS)}; default all, in order")
    parser.add_argument("--child", choices=tuple(SETTINGS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_data_components(args.data_dir, _beam_args(args.child))))
        return 0
    settings = [s.strip() for s in args.settings.split(",") if s.strip()]
    unknown = [s for s in settings if s not in SETTINGS]
    if unknown:
        parser.error(f"unknown settings {unknown}; known: {', '.join(SETTINGS)}")
    results = {}
    for setting in settings:
        print(f"running {LABELS[setting]} ...", flush=True)
        results[setting] = _child(setting, args.data_dir)
    _print_report(results, args.data_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
