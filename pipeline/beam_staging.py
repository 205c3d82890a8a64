"""TFX's copy of itself for remote Beam workers, left out for runners that stage nothing.

When a Beam component gets Beam options and none of them names the workers'
dependencies (``--setup_file``, ``--extra_package``, ``--requirements_file``, a
container image), TFX's ``BaseBeamExecutor`` calls
``tfx.utils.dependency_utils.make_beam_dependency_flags``: it copies the
installed ``tfx`` package (49 MB) into a new temporary folder, builds an sdist of
it there (about 2.3 s on 2 cores, changing the working directory of the whole
process meanwhile) and adds ``--extra_package=`` naming it. Nothing deletes the
folder, so every Beam component of every run leaves 49 MB behind (4,140 such
folders, 45 GB, after a few weeks of runs and test suites). A runner that runs
the pipeline's workers on this machine, in or beside this process, installs no
package: the FnApiRunner, the bundle-based one, and Beam's default DirectRunner
(no ``--runner``), which hands a pipeline to one of them or to Prism, whose
default environment is ``LOOPBACK`` (workers in this process). For those
(``LOCAL_RUNNERS`` with no ``--environment_type`` or a ``LOCAL_ENVIRONMENTS``
one) the copy is skipped; for every other runner or environment (Dataflow,
Flink, Spark, Docker workers) TFX does what it always does.
"""

from __future__ import annotations

from typing import List, Optional, Sequence

from apache_beam.options import pipeline_options
from tfx.utils import dependency_utils

_TFX_OWN = dependency_utils.make_beam_dependency_flags
LOCAL_RUNNERS = frozenset({None, "DirectRunner", "SwitchingDirectRunner", "FnApiRunner",
                           "BundleBasedDirectRunner", "PrismRunner"})
LOCAL_ENVIRONMENTS = frozenset({None, "LOOPBACK", "EMBEDDED"})


def runner_name(beam_pipeline_args: Sequence[str]) -> Optional[str]:
    """The runner ``beam_pipeline_args`` name, without its module path (None: Beam's default)."""
    return _runner_of(pipeline_options.PipelineOptions(list(beam_pipeline_args)))


def runs_here(beam_pipeline_args: Sequence[str]) -> bool:
    """Whether these options run the Beam workers on this machine, with this Python's packages."""
    options = pipeline_options.PipelineOptions(list(beam_pipeline_args))
    environment = options.view_as(pipeline_options.PortableOptions).environment_type
    return (_runner_of(options) in LOCAL_RUNNERS
            and (environment.upper() if environment else None) in LOCAL_ENVIRONMENTS)


def _runner_of(options: pipeline_options.PipelineOptions) -> Optional[str]:
    runner = options.view_as(pipeline_options.StandardOptions).runner
    return str(runner).rsplit(".", 1)[-1] if runner else None


def dependency_flags(beam_pipeline_args: List[str]) -> List[str]:
    """``beam_pipeline_args`` as TFX completes them; unchanged when :func:`runs_here`."""
    if runs_here(beam_pipeline_args):
        return list(beam_pipeline_args)
    return _TFX_OWN(beam_pipeline_args)


def install() -> None:
    """Makes TFX's Beam executors use :func:`dependency_flags`."""
    dependency_utils.make_beam_dependency_flags = dependency_flags


def uninstall() -> None:
    """Restores TFX's own function."""
    dependency_utils.make_beam_dependency_flags = _TFX_OWN
