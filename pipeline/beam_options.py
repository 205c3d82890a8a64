"""Beam pipeline options for the data components (ExampleGen, StatisticsGen, Transform, ...).

Locally the data work runs on Beam's FnApiRunner: with one worker process per
core (``multi_processing``) on machines with at least
``MIN_CORES_FOR_MULTI_PROCESSING`` cores, in the calling process (``in_memory``)
on smaller ones. Measured on 2 cores (``bench/beam_workers_bench.py``, docs/benchmarks.md),
multi-processing costs about 1.6 times the CPU (worker start-up, every element
crossing the gRPC data plane) and ExampleGen through Transform took 273 s with
2 workers against 199 s in memory. The runner is named explicitly: Beam 2.74's
``DirectRunner`` first tries the Prism runner, which downloads a binary from
GitHub (offline: fails and falls back; online: runs the pipeline itself and
ignores ``direct_running_mode``). ``FnApiRunner`` is what DirectRunner falls
back to for batch pipelines, without the detour.

Any other Beam runner (Dataflow, Flink, Spark) is reached by passing its own
options instead, e.g. ``--runner=DataflowRunner --project=P --region=R
--temp_location=gs://B/tmp``; user-given options replace these defaults.
"""

from __future__ import annotations

import os
from typing import Optional, Tuple

LOCAL_RUNNER = "FnApiRunner"
MULTI_PROCESSING = "multi_processing"
IN_MEMORY = "in_memory"
MIN_CORES_FOR_MULTI_PROCESSING = 3


def direct_args(num_workers: int, running_mode: str = MULTI_PROCESSING) -> Tuple[str, ...]:
    """Returns the options of a local run with ``num_workers`` workers.

    Args:
      num_workers: worker processes (threads with ``multi_threading``); 0 means
        one per core of the machine that runs the component.
      running_mode: ``multi_processing``, ``multi_threading`` or ``in_memory``.
    """
    if num_workers < 0:
        raise ValueError(f"num_workers must be 0 (one per core) or more, got {num_workers}")
    return (f"--runner={LOCAL_RUNNER}", f"--direct_running_mode={running_mode}",
            f"--direct_num_workers={num_workers}")


def local_defaults(cores: Optional[int] = None) -> Tuple[str, ...]:
    """Options of ``imagepipe run`` on a machine with ``cores`` cores (default: this one's).

    One worker process per core from ``MIN_CORES_FOR_MULTI_PROCESSING`` cores
    on; below, one in-memory worker, which was faster on 2 cores.
    """
    cores = cores or os.cpu_count() or 1
    if cores < MIN_CORES_FOR_MULTI_PROCESSING:
        return direct_args(1, running_mode=IN_MEMORY)
    return direct_args(cores)


def container_defaults() -> Tuple[str, ...]:
    """Options compiled into a Kubeflow/Vertex spec: one worker per core of the container."""
    return direct_args(0)

