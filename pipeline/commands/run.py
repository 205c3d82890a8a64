"""``imagepipe run TARGET``: run a pipeline locally with LocalDagRunner.

Each target (data set kind) lives in its own module with ``register_target``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Optional

from imagepipe.pipeline.commands import run_fashion_mnist, run_folder

DEFAULT_OUTPUT = "imagepipe-output"
TARGET_MODULES = (run_fashion_mnist, run_folder)


def register(subparsers) -> None:
    """Adds the ``run`` command and its targets."""
    parser = subparsers.add_parser("run", help="run a pipeline locally with LocalDagRunner")
    targets = parser.add_subparsers(dest="target", required=True, metavar="TARGET")
    for module in TARGET_MODULES:
        module.register_target(targets)


def add_training_options(parser: argparse.ArgumentParser, epochs: int, patience: int) -> None:
    """Model and training options every ``run`` target has, with the target's defaults."""
    parser.add_argument("--model", default="arch5",
                        help="architecture name (see `imagepipe models`); default arch5")
    parser.add_argument("--epochs", type=int, default=epochs,
                        help=f"maximum epochs; default {epochs}")
    parser.add_argument("--batch-size", type=int, default=32, help="default 32")
    parser.add_argument("--learning-rate", type=float, default=1e-3, help="default 0.001")
    parser.add_argument("--patience", type=int, default=patience,
                        help=f"early-stopping patience in epochs; default {patience}")
    parser.add_argument("--balance", choices=("oversample", "class_weight", "none"),
                        default="oversample",
                        help="balancing of the training split: oversample (default; augmented "
                             "copies top up the smaller classes every epoch), class_weight "
                             "(loss weights from the measured counts) or none")
    parser.add_argument("--tune", action="store_true",
                        help="run the TFX Tuner first: KerasTuner random search over learning "
                             "rate, dropout and width (what the model takes); the best values "
                             "train the model")
    parser.add_argument("--tune-trials", type=int, default=6,
                        help="hyperparameter sets the tuner tries; default 6")
    parser.add_argument("--tune-epochs", type=int, default=2,
                        help="epochs per tuner trial; default 2")


def tuner_config(args: argparse.Namespace):
    """The TunerConfig of ``--tune``, or None without it."""
    from imagepipe.pipeline import config  # pylint: disable=g-import-not-at-top
    if not args.tune:
        return None
    return config.TunerConfig(max_trials=args.tune_trials, trial_epochs=args.tune_epochs)


def trainer_config(args: argparse.Namespace):
    """The TrainerConfig of :func:`add_training_options`' arguments."""
    from imagepipe.pipeline import config  # pylint: disable=g-import-not-at-top
    return config.TrainerConfig(model_name=args.model, epochs=args.epochs,
                                batch_size=args.batch_size, learning_rate=args.learning_rate,
                                early_stopping_patience=args.patience, balance=args.balance)


def add_common_options(parser: argparse.ArgumentParser) -> None:
    """Options every ``run`` target has: output folders, caching, Beam."""
    parser.add_argument("--output", default=DEFAULT_OUTPUT,
                        help=f"folder for artifacts, metadata, logs and the serving models; "
                             f"default ./{DEFAULT_OUTPUT}")
    parser.add_argument("--serving-dir", default=None,
                        help="where blessed models are pushed; default OUTPUT/serving")
    parser.add_argument("--no-cache", action="store_true",
                        help="rerun every component instead of reusing unchanged results")
    from imagepipe.pipeline import beam_options  # pylint: disable=g-import-not-at-top
    add_beam_option(parser, beam_options.local_defaults())


class _AppendReplacingDefault(argparse.Action):
    """Collects repeated values; the first one given replaces the default list."""

    def __call__(self, parser, namespace, values, option_string=None):
        current = getattr(namespace, self.dest, None)
        collected = [] if current is self.default or current is None else list(current)
        setattr(namespace, self.dest, collected + [values])


def add_beam_option(parser: argparse.ArgumentParser, defaults) -> None:
    """Adds ``--beam-arg``: Beam options for the data components, ``defaults`` unless given."""
    parser.add_argument("--beam-arg", action=_AppendReplacingDefault, default=tuple(defaults),
                        metavar="ARG",
                        help=f"Beam pipeline option, repeatable; default: {' '.join(defaults)}. "
                             f"Any --beam-arg replaces all the defaults, e.g. "
                             f"--beam-arg=--direct_num_workers=1, or "
                             f"--beam-arg=--runner=DataflowRunner --beam-arg=--project=P ... "
                             f"(see the README)")


def output_paths(args: argparse.Namespace) -> dict:
    """Returns pipeline_root, serving_dir and metadata_path under ``--output``."""
    output = args.output if "://" in args.output else os.path.abspath(args.output)
    return {
        "pipeline_root": f"{output}/pipeline_root",
        "serving_dir": args.serving_dir or f"{output}/serving",
        "metadata_path": None if "://" in output else f"{output}/metadata.sqlite",
    }


def check_model(model_name: str) -> Optional[str]:
    """Returns an error message when ``model_name`` is not registered."""
    from imagepipe.components import models  # pylint: disable=g-import-not-at-top
    if model_name not in models.names():
        return f"unknown model {model_name!r}; known models: {', '.join(models.names())}"
    return None


def execute(pipeline_config, args: argparse.Namespace, title: str) -> int:
    """Runs ``pipeline_config`` locally: progress on the console, full log in a file, summary."""
    from imagepipe.pipeline import local_runner, results, summary  # pylint: disable=g-import-not-at-top
    log_dir = os.path.join(os.path.abspath(args.output), "logs")
    log_file = os.path.join(log_dir, time.strftime("run-%Y%m%d-%H%M%S.log"))
    progress = local_runner.ProgressHandler()
    local_runner.configure_logging(log_file, progress)
    print(f"imagepipe: {title}")
    print(f"  full log: {log_file}")
    start = time.monotonic()
    try:
        local_runner.run(pipeline_config)
    except Exception as error:  # pylint: disable=broad-except
        print(f"\n✘ the pipeline failed in {progress.current or 'start-up'}: "
              f"{type(error).__name__}: {error}\n  full log: {log_file}", file=sys.stderr)
        return 1
    run_summary = results.latest_run(pipeline_config.metadata_path, pipeline_config.pipeline_name)
    print(summary.format_summary(run_summary, time.monotonic() - start))
    return 0
