"""``imagepipe experiment NAME``: rerun one of the lab report's comparisons, with a report.

    imagepipe experiment architectures [--models arch4,arch5,...]
    imagepipe experiment data-size [--model proposed] [--fractions 0.1,0.25,0.5,1]
    imagepipe experiment cross-validation [--model proposed] [--folds 5]
    imagepipe experiment transfer-grid PATH [--model efficientnet_lite0|resnet50]
                                            [--weights imagenet|PATH]

``resnet50-grid``, the grid's old name, still runs it as ``transfer-grid
--model resnet50``, after a note on stderr.

Each experiment offers the data and training options of ``imagepipe run`` on
its data (the same flags and defaults), except the settings it varies itself
(``--models``, ``--fractions``, the grid's model, weights and augmentation).

Each experiment is a set of real pipeline runs recorded in ML Metadata under
``--output`` (default ``imagepipe-output/experiments/NAME``); its report
(``report/index.html``, ``report/report.md``, PNGs, ``results.json``) lands
there too, and the table is printed at the end.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Callable, List, Tuple

from imagepipe.pipeline.commands import options as options_lib

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
    _transfer_grid(experiments)
    _renamed_grid(experiments)


# ---------------------------------------------------------------- options

# The grid sets the model (its own --model), its weights and its augmentation per
# cell; --mirror would apply to one cell only (weights, no augmentation), and no model
# with a pretrained base takes a width (tests check this list and GRID_MODELS against
# the model registry; the parser does not import the models).
GRID_EXCLUDED = ("model_name", "model_options.weights", "model_options.augment",
                 "model_options.mirror", "model_options.width")
GRID_MODELS = "efficientnet_lite0|efficientnet_lite0_lite2|efficientnet_lite2|resnet50"
GRID_NAMES = ("transfer-grid", "resnet50-grid")  # the name, and the old one


def _offered(target: str, exclude: Tuple[str, ...]):
    """The data and training options of an experiment on ``target``'s sources.

    ``exclude``: the training settings the experiment varies itself (its own flags).
    ``--warm-start`` is never offered: every arm of an experiment starts from scratch.
    """
    from imagepipe.components import sources  # pylint: disable=g-import-not-at-top
    return options_lib.Offered(tuple(sources.targets()[target]),
                               training_exclude=exclude + ("warm_start",),
                               tuning=False, evaluation=False)


def _common(parser: argparse.ArgumentParser, offered) -> None:
    from imagepipe.pipeline.commands import run  # pylint: disable=g-import-not-at-top
    options_lib.add_offered(parser, offered)
    group = parser.add_argument_group("output and execution")
    group.add_argument("--output", default=None,
                       help=f"the experiment's folder; default ./{DEFAULT_OUTPUT}/NAME")
    group.add_argument("--no-cache", action="store_true",
                       help="rerun every component instead of reusing unchanged results")
    run.add_beam_option(group, ())


def _architectures(experiments) -> None:
    parser = experiments.add_parser(
        "architectures", help="every Fashion-MNIST model on the same splits",
        description="Train every Fashion-MNIST model of the registry (arch4 is a stand-in: the "
                    "report does not list its layers) on the same splits; table of test "
                    "accuracy, per-class recall, parameters, best epoch and time per epoch, "
                    "training curves and a confusion matrix per model.")
    parser.add_argument("--models", default=None,
                        help="comma-separated model names; default: every Fashion-MNIST model")
    _common(parser, _offered("fashion-mnist", ("model_name",)))
    parser.set_defaults(func=_run_architectures)


def _data_size(experiments) -> None:
    parser = experiments.add_parser(
        "data-size", help="accuracy against the share of training data",
        description="Train one model on seeded, stratified fractions of the same training "
                    "split; table and plot of accuracy against the amount of data.")
    parser.add_argument("--fractions", default="0.1,0.25,0.5,1",
                        help="comma-separated fractions in (0, 1]; default 0.1,0.25,0.5,1")
    _common(parser, _offered("fashion-mnist", ("train_fraction",)))
    parser.set_defaults(func=_run_data_size)


def _cross_validation(experiments) -> None:
    parser = experiments.add_parser(
        "cross-validation", help="K-fold cross-validation of one model",
        description="ExampleGen cuts the data into K disjoint folds that cover it; one Trainer "
                    "per fold trains on the other folds for a fixed number of epochs (no early "
                    "stopping) and an Evaluator scores it on the held-out fold; mean ± std of "
                    "the metrics.")
    parser.add_argument("--folds", type=int, default=5, help="number of folds K; default 5")
    _common(parser, _offered("fashion-mnist", ("early_stopping", "early_stopping_patience")))
    parser.set_defaults(func=_run_cross_validation)


_GRID_DESCRIPTION = (
    "The report's part 2: a model with a pretrained base without and with pretrained "
    "weights, without and with augmentation, on the same photo-folder splits; a 2x2 table "
    "of best validation accuracy beside the report's (39% / 45% / 90% / 95%), test "
    "accuracy, and a row per run with balanced accuracy, per-class recall and times.")


def _grid_options(parser: argparse.ArgumentParser) -> None:
    """The grid's own ``--weights`` and the data and training options of a folder run."""
    parser.add_argument("--weights", default="imagenet", metavar="imagenet|PATH",
                        help="the pretrained weights of the grid's 'weights' row: imagenet "
                             "(efficientnet_lite0/lite2: installed, offline; resnet50: "
                             "downloaded by Keras, needs the internet) or a local weights file "
                             "of the model's base (efficientnet_lite*: a PyTorch state dict; "
                             "resnet50: Keras .h5); default imagenet")
    _common(parser, _offered("folder", GRID_EXCLUDED))


def _transfer_grid(experiments) -> None:
    parser = experiments.add_parser(
        "transfer-grid", help="a pretrained base on a photo folder: weights x augmentation",
        description=_GRID_DESCRIPTION)
    parser.add_argument("--model", dest="grid_model", default="efficientnet_lite0",
                        metavar=GRID_MODELS,
                        help="the model of every cell: one with a pretrained base (see "
                             "`imagepipe models`); default efficientnet_lite0")
    _grid_options(parser)
    parser.set_defaults(func=_run_transfer_grid)


def _renamed_grid(experiments) -> None:
    """``resnet50-grid``: the old name, not listed; runs ``transfer-grid --model resnet50``."""
    parser = experiments.add_parser(
        "resnet50-grid", description="Renamed: `imagepipe experiment transfer-grid --model "
                                     "resnet50`. " + _GRID_DESCRIPTION)
    _grid_options(parser)
    parser.set_defaults(func=_run_renamed_grid, grid_model="resnet50")


# ---------------------------------------------------------------- running


def _settings(args: argparse.Namespace, **training_changes):
    """(data settings, training settings) of the experiment's options."""
    chosen = options_lib.command_settings(args)
    return chosen.data, chosen.training.replace(**training_changes)


def _split(text: str) -> List[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _execute(args: argparse.Namespace, name: str,
             body: Callable[[object], object]) -> int:
    """Sets up the experiment (folders, logging, progress), runs ``body``, writes the report."""
    from imagepipe.pipeline import output_lock  # pylint: disable=g-import-not-at-top
    output = os.path.abspath(args.output or os.path.join(DEFAULT_OUTPUT, name))
    try:
        with output_lock.held(output):
            return _execute_holding(args, name, body, output)
    except output_lock.OutputInUseError as error:
        return _usage_error(error)


def _execute_holding(args: argparse.Namespace, name: str, body: Callable[[object], object],
                     output: str) -> int:
    from imagepipe.pipeline import config, local_runner  # pylint: disable=g-import-not-at-top
    from imagepipe.pipeline.commands import run  # pylint: disable=g-import-not-at-top
    from imagepipe.pipeline.experiments import common  # pylint: disable=g-import-not-at-top
    log_file = run.log_file_path(output, "experiment")
    progress = local_runner.ProgressHandler()
    local_runner.configure_logging(log_file, progress)
    experiment = common.Experiment(name, common.ExperimentSettings(
        output=output, beam_pipeline_args=tuple(args.beam_arg), enable_cache=not args.no_cache,
        code_fingerprint=config.code_fingerprint()), progress=lambda line: print(f"• {line}"))
    print(f"imagepipe experiment {name}\n  folder: {output}\n  full log: {log_file}")
    try:
        report = body(experiment)
    except Exception as error:  # pylint: disable=broad-except
        logging.exception("experiment %s failed", name)
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


def _checked(configs) -> None:
    """Refuses the experiment before any run when one of its runs could not run."""
    from imagepipe.pipeline import checks  # pylint: disable=g-import-not-at-top
    problems = sorted({problem for config, _ in configs
                       for problem in checks.problems(config)})
    if problems:
        raise options_lib.UsageError("\n  ".join(problems))


def planned(args: argparse.Namespace) -> List[Tuple[object, object]]:
    """The (PipelineConfig, split plan) of every run the experiment's arguments ask for.

    The configs are the runs' own, but for their folders (see
    ``common.preview_configs``); the experiment checks them before its first run.

    Raises:
      ValueError: an argument out of range, an unknown model, a missing file.
    """
    from imagepipe.pipeline import pipeline  # pylint: disable=g-import-not-at-top
    from imagepipe.pipeline.experiments import (architectures, common, data_size,  # pylint: disable=g-import-not-at-top
                                                transfer_grid)
    if args.experiment == "cross-validation":
        plan = pipeline.KFold(args.folds)
        data, training = _settings(args, early_stopping=False)
        return [(config, plan) for config in common.preview_configs(data, [training])]
    if args.experiment in GRID_NAMES:  # before the folder is read
        transfer_grid.check_model(args.grid_model)
        transfer_grid.check_weights(args.weights)
    data, training = _settings(args)
    if args.experiment == "architectures":
        names = _split(args.models) if args.models else architectures.default_models()
        trainings = [training.replace(model_name=name) for name in names]
    elif args.experiment == "data-size":
        fractions = data_size.check_fractions([float(f) for f in _split(args.fractions)])
        trainings = [training.replace(train_fraction=f) for f in fractions]
    else:
        trainings = [transfer_grid.cell_training(training, cell, args.weights, args.grid_model)
                     for cell in transfer_grid.CELLS]
    return [(config, pipeline.HOLD_OUT) for config in common.preview_configs(data, trainings)]


def _prepared(args: argparse.Namespace):
    """The experiment's (data, training) settings after checking every planned run."""
    _checked(planned(args))
    return _settings(args, **({"early_stopping": False}
                              if args.experiment == "cross-validation" else {}))


def _run(args: argparse.Namespace, name: str, run: Callable[..., object],
         arguments: Callable[[], Tuple] = tuple) -> int:
    """Checks every planned run, then runs ``run(experiment, data, training, *arguments())``.

    Args:
      args: the parsed command line.
      name: the experiment's name (its folder).
      run: the experiment module's ``run``.
      arguments: what ``run`` takes after the settings, read from ``args``.

    Returns:
      The exit status: 2 for an argument, setting or file the experiment cannot use
      (nothing has run then), else ``_execute``'s.
    """
    try:
        data, training = _prepared(args)
        more = arguments()
    except (ValueError, KeyError, FileNotFoundError) as error:
        return _usage_error(error)
    return _execute(args, name, lambda experiment: run(experiment, data, training, *more))


def _run_architectures(args: argparse.Namespace) -> int:
    from imagepipe.pipeline.experiments import architectures  # pylint: disable=g-import-not-at-top
    return _run(args, architectures.NAME, architectures.run, lambda: (
        _split(args.models) if args.models else architectures.default_models(),))


def _run_data_size(args: argparse.Namespace) -> int:
    from imagepipe.pipeline.experiments import data_size  # pylint: disable=g-import-not-at-top
    return _run(args, data_size.NAME, data_size.run,
                lambda: ([float(f) for f in _split(args.fractions)],))


def _run_cross_validation(args: argparse.Namespace) -> int:
    from imagepipe.pipeline import pipeline  # pylint: disable=g-import-not-at-top
    from imagepipe.pipeline.experiments import cross_validation  # pylint: disable=g-import-not-at-top
    return _run(args, cross_validation.NAME, cross_validation.run,
                lambda: (pipeline.KFold(args.folds),))


def _run_transfer_grid(args: argparse.Namespace) -> int:
    from imagepipe.pipeline.experiments import transfer_grid  # pylint: disable=g-import-not-at-top
    return _run(args, transfer_grid.NAME, transfer_grid.run,
                lambda: (args.weights, args.grid_model))


def _run_renamed_grid(args: argparse.Namespace) -> int:
    """The old name: says it was renamed (stderr), then runs the new one."""
    from imagepipe.pipeline.experiments import transfer_grid  # pylint: disable=g-import-not-at-top
    print(transfer_grid.renamed_message(), file=sys.stderr)
    return _run_transfer_grid(args)
