"""Runs the pipeline with LocalDagRunner, with concise progress and full logs in a file."""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import Callable, Optional, TextIO

from absl import logging as absl_logging

from imagepipe.components.trainer.task import EPOCH_MESSAGE
from imagepipe.pipeline.config import PipelineConfig

_RUNNING = "Component %s is running."
_FINISHED = "Component %s is finished."
_CACHED = "A cached execution %d is used."


class ProgressHandler(logging.Handler):
    """Turns the runner's log records into one line per component start and finish."""

    def __init__(self, stream: Optional[TextIO] = None,
                 clock: Callable[[], float] = time.monotonic):
        super().__init__(level=logging.INFO)
        self._stream = stream  # None: the sys.stdout of the moment, not of the import
        self._clock = clock
        self._started: dict = {}
        self._cached: set = set()
        self._current: Optional[str] = None
        self._run_start = clock()

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == _RUNNING and record.args:
            self._current = str(record.args[0])
            self._started[self._current] = self._clock()
            self._print(f"▶ {self._current} started")
        elif record.msg == _CACHED and self._current:
            self._cached.add(self._current)
        elif record.msg == _FINISHED and record.args:
            node = str(record.args[0])
            elapsed = self._clock() - self._started.get(node, self._clock())
            how = "reused from cache" if node in self._cached else "finished"
            self._print(f"✔ {node} {how} in {elapsed:.1f} s")
        elif record.msg == EPOCH_MESSAGE and record.args:
            self._print("    " + record.getMessage())

    def _print(self, text: str) -> None:
        total = self._clock() - self._run_start
        stream = self._stream or sys.stdout
        stream.write(f"[{total:7.1f} s] {text}\n")
        stream.flush()

    @property
    def current(self) -> Optional[str]:
        """The component that started last."""
        return self._current


def configure_logging(log_file: str, progress: Optional[logging.Handler]) -> None:
    """Sends every log record to ``log_file`` and only progress lines to the console."""
    os.makedirs(os.path.dirname(os.path.abspath(log_file)), exist_ok=True)
    absl_logging.set_verbosity(absl_logging.INFO)
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    file_handler = logging.FileHandler(log_file)
    file_handler.setFormatter(logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s %(filename)s:%(lineno)d] %(message)s"))
    root.addHandler(file_handler)
    if progress is not None:
        root.addHandler(progress)
    root.setLevel(logging.INFO)
    # TensorFlow's logger prints to stderr by itself; route it to the file instead.
    tf_logger = logging.getLogger("tensorflow")
    for handler in list(tf_logger.handlers):
        tf_logger.removeHandler(handler)
    tf_logger.propagate = True
    logging.captureWarnings(True)


def run(config: PipelineConfig) -> None:
    """Runs the pipeline described by ``config`` on this machine with LocalDagRunner."""
    from imagepipe.pipeline.pipeline import create_pipeline  # pylint: disable=g-import-not-at-top
    run_pipeline(create_pipeline(config))


def run_pipeline(tfx_pipeline) -> None:
    """Runs a built TFX pipeline with LocalDagRunner, with the local runs' Beam fixes installed."""
    from tfx import v1 as tfx  # pylint: disable=g-import-not-at-top
    from imagepipe.pipeline import (  # pylint: disable=g-import-not-at-top
        beam_dofn_specs, beam_option_views, beam_staging)
    beam_dofn_specs.install()
    beam_option_views.install()
    beam_staging.install()
    tfx.orchestration.LocalDagRunner().run(tfx_pipeline)
