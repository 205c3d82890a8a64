"""``imagepipe run TARGET``: run a pipeline locally with LocalDagRunner.

The targets come from the data-source registry (``imagepipe.components.sources``):
``fashion-mnist`` (``--source idx|tfds``) and ``folder PATH``. Every target
offers the same training, tuning and evaluation options, derived from the
settings (``imagepipe.components.settings``), with its source's defaults.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time

from imagepipe.pipeline.commands import options as options_lib

DEFAULT_OUTPUT = "imagepipe-output"


def register(subparsers) -> None:
    """Adds the ``run`` command and one target per data-source target."""
    from imagepipe.components import sources  # pylint: disable=g-import-not-at-top
    parser = subparsers.add_parser("run", help="run a pipeline locally with LocalDagRunner")
    targets = parser.add_subparsers(dest="target", required=True, metavar="TARGET")
    for target, target_sources in sources.targets().items():
        sub = targets.add_parser(
            target, help=target_sources[0].description,
            description=f"{target_sources[0].description}: ingest, validate, transform, "
                        f"train, evaluate on the test split and push a blessed model to the "
                        f"serving folder.")
        options_lib.add_offered(sub, options_lib.Offered(tuple(target_sources)))
        add_common_options(sub)
        sub.set_defaults(func=_run)


def add_common_options(parser: argparse.ArgumentParser) -> None:
    """Options of where a local run writes: output folders, serving name, caching, Beam."""
    group = parser.add_argument_group("output and execution")
    group.add_argument("--output", default=DEFAULT_OUTPUT,
                       help=f"folder for artifacts, metadata, logs and the serving models; "
                            f"default ./{DEFAULT_OUTPUT}")
    group.add_argument("--serving-dir", default=None,
                       help="where blessed models are pushed; default OUTPUT/serving")
    group.add_argument("--serving-name", default=None,
                       help="model name under the serving folder; default: the source's "
                            "(fashion_mnist; a photo folder's name)")
    group.add_argument("--no-cache", action="store_true",
                       help="rerun every component instead of reusing unchanged results")
    from imagepipe.pipeline import beam_options  # pylint: disable=g-import-not-at-top
    add_beam_option(group, beam_options.local_defaults(),
                    f"FnApiRunner, in memory below {beam_options.MIN_CORES_FOR_MULTI_PROCESSING} "
                    f"cores, else one worker process per core (here: "
                    f"{' '.join(beam_options.local_defaults())})")


class _AppendReplacingDefault(argparse.Action):
    """Collects repeated values; the first one given replaces the default list."""

    def __call__(self, parser, namespace, values, option_string=None):
        current = getattr(namespace, self.dest, None)
        collected = [] if current is self.default or current is None else list(current)
        setattr(namespace, self.dest, collected + [values])


def add_beam_option(parser, defaults, shown: str = "") -> None:
    """Adds ``--beam-arg``: Beam options for the data components, ``defaults`` unless given.

    ``shown``: how ``--help`` describes the defaults (default: the options themselves).
    """
    shown = shown or " ".join(defaults) or "none"
    parser.add_argument("--beam-arg", action=_AppendReplacingDefault, default=tuple(defaults),
                        metavar="ARG",
                        help=f"Beam pipeline option, repeatable; default: {shown}. Any "
                             f"--beam-arg replaces all the defaults, e.g. "
                             f"--beam-arg=--direct_num_workers=1, or "
                             f"--beam-arg=--runner=DataflowRunner --beam-arg=--project=P ... "
                             f"(see docs/cloud.md)")


def output_paths(output: str, serving_dir) -> dict:
    """Returns pipeline_root, serving_dir and metadata_path under ``output``."""
    output = output if "://" in output else os.path.abspath(output)
    return {
        "pipeline_root": f"{output}/pipeline_root",
        "serving_dir": serving_dir or f"{output}/serving",
        "metadata_path": None if "://" in output else f"{output}/metadata.sqlite",
    }


def checked_config(args: argparse.Namespace, paths: dict, pipeline_name: str = ""):
    """The PipelineConfig of a command's settings options, written to ``paths``, checked.

    Args:
      args: the command's arguments (``options.add_offered``, ``--serving-name``,
        ``--beam-arg``, ``--no-cache``).
      paths: ``pipeline_root``, ``serving_dir`` and ``metadata_path``.
      pipeline_name: overrides the data source's pipeline name.

    Raises:
      options.UsageError: the options cannot run; the message says why.
    """
    from imagepipe.pipeline import checks, config  # pylint: disable=g-import-not-at-top
    chosen = options_lib.command_settings(args)
    source_pipeline, serving_name = chosen.source.pipeline_and_serving_names(chosen.data)
    pipeline_config = config.PipelineConfig(
        pipeline_name=pipeline_name or source_pipeline, **paths,
        serving_model_name=args.serving_name or serving_name,
        data=chosen.data, training=chosen.training, tuning=chosen.tuning,
        evaluation=chosen.evaluation,
        beam_pipeline_args=tuple(args.beam_arg),
        code_fingerprint=config.code_fingerprint(),
        enable_cache=not args.no_cache)
    problems = checks.problems(pipeline_config)
    if problems:
        raise options_lib.UsageError("\n  ".join(problems))
    return pipeline_config


def build_config(args: argparse.Namespace):
    """The PipelineConfig of ``imagepipe run TARGET`` from its arguments.

    Raises:
      options.UsageError: the options cannot run; the message says why.
    """
    return checked_config(args, output_paths(args.output, args.serving_dir))


def describe(pipeline_config) -> str:
    """One line saying what a run does: source, data, classes, model, epochs, balance."""
    from imagepipe.pipeline import pipeline  # pylint: disable=g-import-not-at-top
    data, training = pipeline_config.data, pipeline_config.training
    names = pipeline.class_names(pipeline_config)
    return (f"{data.source} data {getattr(data, 'data_dir', '') or '(default)'}, "
            f"{len(names)} classes ({', '.join(names)}), model {training.model_name}, up to "
            f"{training.epochs} epochs, balance {training.balance}"
            + (f", photo augmentation {training.photo_augmentation:g}"
               if training.photo_augmentation else "")
            + (", tuned first" if pipeline_config.tuning else ""))


def _run(args: argparse.Namespace) -> int:
    try:
        pipeline_config = build_config(args)
    except options_lib.UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return execute(pipeline_config, args.output, describe(pipeline_config))


def log_file_path(output: str, kind: str) -> str:
    """A log file of its own for this run: ``OUTPUT/logs/KIND-<time>-<pid>.log``."""
    return os.path.join(os.path.abspath(output), "logs",
                        time.strftime(f"{kind}-%Y%m%d-%H%M%S-{os.getpid()}.log"))


def execute(pipeline_config, output: str, title: str) -> int:
    """Runs ``pipeline_config`` locally: progress on the console, full log in a file, summary.

    The run holds ``output`` for itself (``output_lock``): a second run into the
    same folder is refused, naming the first.
    """
    from imagepipe.pipeline import output_lock  # pylint: disable=g-import-not-at-top
    try:
        with output_lock.held(os.path.abspath(output)):
            return _execute_holding(pipeline_config, output, title)
    except output_lock.OutputInUseError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _execute_holding(pipeline_config, output: str, title: str) -> int:
    from imagepipe.pipeline import local_runner, results, summary  # pylint: disable=g-import-not-at-top
    log_file = log_file_path(output, "run")
    progress = local_runner.ProgressHandler()
    local_runner.configure_logging(log_file, progress)
    print(f"imagepipe: {title}")
    print(f"  full log: {log_file}")
    start = time.monotonic()
    try:
        local_runner.run(pipeline_config)
    except Exception as error:  # pylint: disable=broad-except
        logging.exception("the pipeline failed in %s", progress.current or "start-up")
        print(f"\n✘ the pipeline failed in {progress.current or 'start-up'}: "
              f"{type(error).__name__}: {error}\n  full log: {log_file}", file=sys.stderr)
        return 1
    run_summary = results.latest_run(pipeline_config.metadata_path, pipeline_config.pipeline_name)
    print(summary.format_summary(run_summary, time.monotonic() - start))
    return 0
