"""The ``imagepipe`` command line.

    imagepipe run fashion-mnist [--model NAME] [--epochs N] [--output DIR] ...
    imagepipe models
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from typing import Optional, Sequence

# Quiet TensorFlow's C++ start-up chatter before anything imports it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# google-api-core warns about Python 3.10 on every import; TFX 1.16 needs 3.10.
warnings.filterwarnings("ignore", category=FutureWarning, module=r"google\..*")

DEFAULT_OUTPUT = "imagepipe-output"


def _add_run_parser(subparsers) -> None:
    run = subparsers.add_parser("run", help="run a pipeline locally with LocalDagRunner")
    targets = run.add_subparsers(dest="target", required=True, metavar="TARGET")
    fmnist = targets.add_parser(
        "fashion-mnist", help="Fashion-MNIST, 3 super-classes (upper, lower, shoes)",
        description="Ingest Fashion-MNIST, map its 10 classes to upper/lower/shoes, train, "
                    "evaluate on the test split and push a blessed model to the serving folder.")
    fmnist.add_argument("--model", default="arch5",
                        help="architecture name (see `imagepipe models`); default arch5")
    fmnist.add_argument("--epochs", type=int, default=3, help="maximum epochs; default 3")
    fmnist.add_argument("--batch-size", type=int, default=32, help="default 32")
    fmnist.add_argument("--learning-rate", type=float, default=1e-3, help="default 0.001")
    fmnist.add_argument("--patience", type=int, default=2,
                        help="early-stopping patience in epochs; default 2")
    fmnist.add_argument("--output", default=DEFAULT_OUTPUT,
                        help=f"folder for artifacts, metadata, logs and the serving models; "
                             f"default ./{DEFAULT_OUTPUT}")
    fmnist.add_argument("--serving-dir", default=None,
                        help="where blessed models are pushed; default OUTPUT/serving")
    fmnist.add_argument("--source", choices=("idx", "tfds"), default="idx",
                        help="idx: the canonical IDX files (default); tfds: TFDS fashion_mnist")
    fmnist.add_argument("--data-dir", default=None,
                        help="folder of the IDX files (default: $IMAGEPIPE_FASHION_MNIST_DIR, "
                             "the Debian package's folder or ~/.cache/imagepipe/fashion-mnist), "
                             "or the TFDS data dir with --source tfds")
    fmnist.add_argument("--min-accuracy", type=float, default=0.98,
                        help="test accuracy needed for blessing; default 0.98")
    fmnist.add_argument("--seed", type=int, default=1001, help="split and training seed")
    fmnist.add_argument("--no-cache", action="store_true",
                        help="rerun every component instead of reusing unchanged results")
    fmnist.add_argument("--beam-arg", action="append", default=[], metavar="ARG",
                        help="extra Beam pipeline option, repeatable, e.g. "
                             "--beam-arg=--direct_num_workers=2")
    fmnist.set_defaults(func=_run_fashion_mnist)


def build_parser() -> argparse.ArgumentParser:
    """Returns the parser of the ``imagepipe`` command."""
    parser = argparse.ArgumentParser(
        prog="imagepipe", description="A production TFX pipeline for image classification.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_run_parser(subparsers)
    models = subparsers.add_parser("models", help="list the registered architectures")
    models.set_defaults(func=_list_models)
    return parser


def _list_models(args: argparse.Namespace) -> int:
    del args
    from imagepipe.components import models  # pylint: disable=g-import-not-at-top
    for name in models.names():
        doc = (models.get(name).__doc__ or "").strip().splitlines()[0]
        print(f"{name:10s} {doc}")
    return 0


def fashion_mnist_config(args: argparse.Namespace):
    """Builds the PipelineConfig of ``imagepipe run fashion-mnist`` from its arguments."""
    from imagepipe.data import fashion_mnist  # pylint: disable=g-import-not-at-top
    from imagepipe.pipeline import config  # pylint: disable=g-import-not-at-top
    output = os.path.abspath(args.output) if "://" not in args.output else args.output
    data_dir = args.data_dir or (fashion_mnist.default_data_dir() if args.source == "idx" else "")
    return config.PipelineConfig(
        pipeline_name="imagepipe-fashion-mnist",
        pipeline_root=f"{output}/pipeline_root",
        serving_dir=args.serving_dir or f"{output}/serving",
        metadata_path=f"{output}/metadata.sqlite" if "://" not in output else None,
        data=config.DataConfig(source=args.source, data_dir=data_dir, split_seed=args.seed),
        trainer=config.TrainerConfig(model_name=args.model, epochs=args.epochs,
                                     batch_size=args.batch_size, learning_rate=args.learning_rate,
                                     early_stopping_patience=args.patience),
        evaluation=config.EvalConfig(min_accuracy=args.min_accuracy),
        beam_pipeline_args=tuple(args.beam_arg),
        code_fingerprint=config.code_fingerprint(),
        enable_cache=not args.no_cache)


def _check_inputs(pipeline_config) -> Optional[str]:
    """Returns an error message when an input is missing, before any work starts."""
    from imagepipe.components import models  # pylint: disable=g-import-not-at-top
    if pipeline_config.trainer.model_name not in models.names():
        return (f"unknown model {pipeline_config.trainer.model_name!r}; "
                f"known models: {', '.join(models.names())}")
    data = pipeline_config.data
    if data.source == "idx" and "://" not in data.data_dir and not os.path.isdir(data.data_dir):
        return (f"Fashion-MNIST folder not found: {data.data_dir}\n"
                f"  install it with `apt-get install dataset-fashion-mnist`, run "
                f"`python -m imagepipe.data.download`, or pass --data-dir")
    return None


def _run_fashion_mnist(args: argparse.Namespace) -> int:
    from imagepipe.pipeline import local_runner, results, summary  # pylint: disable=g-import-not-at-top
    pipeline_config = fashion_mnist_config(args)
    problem = _check_inputs(pipeline_config)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    log_file = os.path.join(os.path.abspath(args.output), "logs",
                            time.strftime("run-%Y%m%d-%H%M%S.log"))
    progress = local_runner.ProgressHandler()
    local_runner.configure_logging(log_file, progress)
    print(f"imagepipe: Fashion-MNIST pipeline, model {args.model}, up to {args.epochs} epochs")
    print(f"  data: {pipeline_config.data.data_dir or pipeline_config.data.source}")
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


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the ``imagepipe`` console script."""
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
