"""``imagepipe experiment NAME``: rerun one of the lab report's comparisons, with a report.

    imagepipe experiment architectures [--models arch4,arch5,...]
    imagepipe experiment data-size [--model proposed] [--fractions 0.1,0.25,0.5,1]
    imagepipe experiment cross-validation [--model proposed] [--folds 5]
    imagepipe experiment resnet50-grid --data DIR [--weights imagenet|PATH]

Each experiment is a set of real pipeline runs recorded in ML Metadata under
``--output`` (default ``imagepipe-output/experiments/NAME``); its report
(``report/index.html``, ``report/report.md``, PNGs, ``results.json``) lands
there too, and the table is printed at the end.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from typing import Callable, List

DEFAULT_OUTPUT = os.path.join("imagepipe-output", "experiments")


def register(subparsers) -> None:
    """Adds the ``experiment`` command and its experiments."""
    parser = subparsers.add_parser(
        "experiment", help="rerun a comparison of the lab report and write a report",
        description="Each experiment is a set of real pipeline runs in one ML Metadata store, "
                    "with a report folder: Markdown, PNG charts and an HTML page.")
    experiments = parser.add_subparsers(dest="experiment", required=True, metavar="NAME")
    _architectures(experiments)
    _data_size(experiments)
    _cross_validation(experiments)
    _resnet50_grid(experiments)


# ---------------------------------------------------------------- options


def _common(parser: argparse.ArgumentParser, epochs: int, patience: int = 2) -> None:
    parser.add_argument("--epochs", type=int, default=epochs,
                        help=f"maximum epochs per run; default {epochs}")
    parser.add_argument("--batch-size", type=int, default=32, help="default 32")
    parser.add_argument("--learning-rate", type=float, default=1e-3, help="default 0.001")
    parser.add_argument("--patience", type=int, default=patience,
                        help=f"early-stopping patience; default {patience}")
    parser.add_argument("--balance", choices=("oversample", "class_weight", "none"),
                        default="oversample", help="balancing of the training split; "
                                                   "default oversample")
    parser.add_argument("--seed", type=int, default=1001, help="split and training seed")
    parser.add_argument("--output", default=None,
                        help=f"the experiment's folder; default ./{DEFAULT_OUTPUT}/NAME")
    parser.add_argument("--no-cache", action="store_true",
                        help="rerun every component instead of reusing unchanged results")
    parser.add_argument("--beam-arg", action="append", default=[], metavar="ARG",
                        help="Beam pipeline option for the data components, repeatable")


def _fashion_mnist(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", choices=("idx", "tfds"), default="idx",
                        help="idx: the canonical IDX files (default); tfds: TFDS fashion_mnist")
    parser.add_argument("--data-dir", default=None,
                        help="folder of the Fashion-MNIST IDX files (default: as `imagepipe "
                             "run fashion-mnist`)")


def _architectures(experiments) -> None:
    parser = experiments.add_parser(
        "architectures", help="every Fashion-MNIST model on the same splits",
        description="Train every Fashion-MNIST model of the registry (arch4 is a stand-in: the "
                    "report does not list its layers) on the same splits; table of test "
                    "accuracy, per-class recall, parameters, best epoch and time per epoch, "
                    "training curves and a confusion matrix per model.")
    parser.add_argument("--models", default=None,
                        help="comma-separated model names; default: every Fashion-MNIST model")
    _common(parser, epochs=10)
    _fashion_mnist(parser)
    parser.set_defaults(func=_run_architectures)


def _data_size(experiments) -> None:
    parser = experiments.add_parser(
        "data-size", help="accuracy against the share of training data",
        description="Train one model on seeded, stratified fractions of the same training "
                    "split; table and plot of accuracy against the amount of data.")
    parser.add_argument("--model", default="proposed", help="default proposed")
    parser.add_argument("--fractions", default="0.1,0.25,0.5,1",
                        help="comma-separated fractions in (0, 1]; default 0.1,0.25,0.5,1")
    _common(parser, epochs=10)
    _fashion_mnist(parser)
    parser.set_defaults(func=_run_data_size)


def _cross_validation(experiments) -> None:
    parser = experiments.add_parser(
        "cross-validation", help="K-fold cross-validation of one model",
        description="ExampleGen cuts the data into K disjoint folds that cover it; one Trainer "
                    "per fold trains on the other folds for a fixed number of epochs and an "
                    "Evaluator scores it on the held-out fold; mean ± std of the metrics.")
    parser.add_argument("--model", default="proposed", help="default proposed")
    parser.add_argument("--folds", type=int, default=5, help="number of folds K; default 5")
    parser.add_argument("--train-fraction", type=float, default=1.0,
                        help="share of each fold's training folds used (the report's reduced "
                             "data set); default 1")
    _common(parser, epochs=3)
    _fashion_mnist(parser)
    parser.set_defaults(func=_run_cross_validation)


def _resnet50_grid(experiments) -> None:
    parser = experiments.add_parser(
        "resnet50-grid", help="ResNet50 on a photo folder: weights x augmentation",
        description="The report's part 2: ResNet50 without and with pretrained weights, "
                    "without and with augmentation, on the same photo-folder splits; a 2x2 "
                    "table of accuracies like the report's.")
    parser.add_argument("--data", required=True, metavar="DIR",
                        help="the photo folder, one sub-folder per class")
    parser.add_argument("--class-map", metavar="FILE", default=None,
                        help="JSON or YAML {class: [sub-folder, ...]}")
    parser.add_argument("--weights", default="imagenet", metavar="imagenet|PATH",
                        help="the pretrained weights of the grid's 'weights' row: imagenet "
                             "(downloaded; needs the internet) or a local ResNet50 "
                             "(include_top=False) weights file; default imagenet")
    parser.add_argument("--image-size", type=int, default=224,
                        help="model input side in pixels; default 224")
    parser.add_argument("--fine-tune-epochs", type=int, default=0,
                        help="epochs of a second phase unfreezing the top blocks of the "
                             "pretrained base (weights row only); default 0")
    parser.add_argument("--fine-tune-learning-rate", type=float, default=1e-5,
                        help="default 0.00001")
    parser.add_argument("--fine-tune-blocks", type=int, default=3,
                        help="residual blocks unfrozen from the top; default 3 (stage conv5)")
    _common(parser, epochs=10, patience=3)
    parser.set_defaults(func=_run_resnet50_grid)


# ---------------------------------------------------------------- running


def _trainer(args: argparse.Namespace, model: str = "arch5", **changes):
    from imagepipe.pipeline import config  # pylint: disable=g-import-not-at-top
    trainer = config.TrainerConfig(model_name=model, epochs=args.epochs,
                                   batch_size=args.batch_size, learning_rate=args.learning_rate,
                                   early_stopping_patience=args.patience, balance=args.balance)
    return dataclasses.replace(trainer, **changes)


def _fashion_mnist_data(args: argparse.Namespace):
    from imagepipe.data import fashion_mnist  # pylint: disable=g-import-not-at-top
    from imagepipe.pipeline import config  # pylint: disable=g-import-not-at-top
    data_dir = args.data_dir or (fashion_mnist.default_data_dir() if args.source == "idx" else "")
    if args.source == "idx" and "://" not in data_dir and not os.path.isdir(data_dir):
        raise ValueError(f"Fashion-MNIST folder not found: {data_dir}; pass --data-dir")
    return config.DataConfig(source=args.source, data_dir=data_dir, split_seed=args.seed)


def _split(text: str) -> List[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _check_models(names: List[str]) -> None:
    from imagepipe.components import models  # pylint: disable=g-import-not-at-top
    for name in names:
        models.architecture(name)  # UnknownModelError lists the known ones


def _execute(args: argparse.Namespace, name: str,
             body: Callable[[object], object]) -> int:
    """Sets up the experiment (folders, logging, progress), runs ``body``, writes the report."""
    from imagepipe.pipeline import config, local_runner  # pylint: disable=g-import-not-at-top
    from imagepipe.pipeline.experiments import common  # pylint: disable=g-import-not-at-top
    output = os.path.abspath(args.output or os.path.join(DEFAULT_OUTPUT, name))
    log_file = os.path.join(output, "logs", time.strftime("experiment-%Y%m%d-%H%M%S.log"))
    progress = local_runner.ProgressHandler()
    local_runner.configure_logging(log_file, progress)
    experiment = common.Experiment(name, common.ExperimentSettings(
        output=output, beam_pipeline_args=tuple(args.beam_arg), enable_cache=not args.no_cache,
        code_fingerprint=config.code_fingerprint()), progress=lambda line: print(f"• {line}"))
    print(f"imagepipe experiment {name}\n  folder: {output}\n  full log: {log_file}")
    try:
        report = body(experiment)
    except Exception as error:  # pylint: disable=broad-except
        print(f"\n✘ experiment {name} failed in {progress.current or 'start-up'}: "
              f"{type(error).__name__}: {error}\n  full log: {log_file}", file=sys.stderr)
        return 1
    page = report.write(experiment.report_dir)
    from imagepipe.pipeline.experiments import report as report_lib  # pylint: disable=g-import-not-at-top
    print()
    for headers, rows in report.tables:
        print(report_lib.markdown_table(headers, rows))
        print()
    print(f"report: {page}\n        {os.path.join(experiment.report_dir, report_lib.REPORT_MD)}")
    return 0


def _usage_error(error: Exception) -> int:
    print(f"error: {error}", file=sys.stderr)
    return 2


def _run_architectures(args: argparse.Namespace) -> int:
    from imagepipe.pipeline.experiments import architectures  # pylint: disable=g-import-not-at-top
    try:
        names = _split(args.models) if args.models else architectures.default_models()
        _check_models(names)
        data, trainer = _fashion_mnist_data(args), _trainer(args)
    except (ValueError, KeyError) as error:
        return _usage_error(error)
    return _execute(args, architectures.NAME, lambda experiment: architectures.run(
        experiment, data, trainer, names))


def _run_data_size(args: argparse.Namespace) -> int:
    from imagepipe.pipeline.experiments import data_size  # pylint: disable=g-import-not-at-top
    try:
        _check_models([args.model])
        fractions = data_size.check_fractions([float(f) for f in _split(args.fractions)])
        data, trainer = _fashion_mnist_data(args), _trainer(args, args.model)
    except (ValueError, KeyError) as error:
        return _usage_error(error)
    return _execute(args, data_size.NAME, lambda experiment: data_size.run(
        experiment, data, trainer, fractions))


def _run_cross_validation(args: argparse.Namespace) -> int:
    from imagepipe.pipeline.experiments import cross_validation  # pylint: disable=g-import-not-at-top
    try:
        _check_models([args.model])
        cross_validation.fold_names(args.folds)
        data = _fashion_mnist_data(args)
        trainer = _trainer(args, args.model, train_fraction=args.train_fraction)
    except (ValueError, KeyError) as error:
        return _usage_error(error)
    return _execute(args, cross_validation.NAME, lambda experiment: cross_validation.run(
        experiment, data, trainer, args.folds))


def _run_resnet50_grid(args: argparse.Namespace) -> int:
    from imagepipe.pipeline.experiments import resnet50_grid  # pylint: disable=g-import-not-at-top
    try:
        resnet50_grid.check_weights(args.weights)
        data = resnet50_grid.folder_data(args.data, args.class_map, args.image_size, args.seed)
        trainer = _trainer(args, "resnet50", fine_tune_epochs=args.fine_tune_epochs,
                           fine_tune_learning_rate=args.fine_tune_learning_rate)
    except (ValueError, KeyError, FileNotFoundError) as error:
        return _usage_error(error)
    return _execute(args, resnet50_grid.NAME, lambda experiment: resnet50_grid.run(
        experiment, data, trainer, args.weights, args.fine_tune_blocks))
