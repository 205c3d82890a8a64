"""Beam pipeline options for the data components (ExampleGen, StatisticsGen, Transform, ...).

Locally the data work runs on Beam's FnApiRunner with one worker process per
core (``multi_processing``). The runner is named explicitly: Beam 2.74's
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
from typing import Optional, Sequence, Tuple

LOCAL_RUNNER = "FnApiRunner"
MULTI_PROCESSING = "multi_processing"
IN_MEMORY = "in_memory"


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


def local_defaults(num_workers: Optional[int] = None) -> Tuple[str, ...]:
    """Options of ``imagepipe run``: multi-processing, one worker per core of this machine."""
    return direct_args(num_workers or os.cpu_count() or 1)


def container_defaults() -> Tuple[str, ...]:
    """Options compiled into a Kubeflow/Vertex spec: one worker per core of the container."""
    return direct_args(0)


def or_defaults(user_args: Sequence[str], defaults: Sequence[str]) -> Tuple[str, ...]:
    """Returns the user's Beam options when there are any, else ``defaults``."""
    return tuple(user_args) if user_args else tuple(defaults)
