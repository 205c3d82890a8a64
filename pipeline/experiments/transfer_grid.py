"""``transfer-grid``: the report's part 2, a pretrained base on a photo folder, weights x augmentation.

Four pipeline runs of one model on the same photo-folder splits (one
pipeline, so the folder ExampleGen and Transform run once):

==================  ==================  ==================
                    no augmentation     augmentation
==================  ==================  ==================
no weights          ``weights=none``    ``+ augment``
weights             ``weights=W``       ``+ augment``
==================  ==================  ==================

The model is any registered architecture with a pretrained base (a
``fine_tune`` in its registry entry): ``efficientnet_lite0`` (the default; its
ImageNet weights come installed, offline) or ``resnet50`` (Keras downloads its
ImageNet weights). ``W`` is ``imagenet`` or a local weights file of that base.
With weights the base is frozen, and the optional fine-tuning phase unfreezes
its top blocks; without weights the whole network trains from the start.

The report (ResNet50) gave validation accuracy 39% / 45% / 90% / 95%; this
experiment shows those beside its own best validation accuracy, and adds the
Evaluator's test accuracy, balanced accuracy (mean per-class recall), per-class
recall and the time per epoch and per run.

The experiment was called ``resnet50-grid`` (:data:`OLD_NAME`); that name
still runs it, as ``transfer-grid --model resnet50``.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import tensorflow as tf

from imagepipe.components.settings import WEIGHTS_IMAGENET, WEIGHTS_NONE, TrainingSettings
from imagepipe.components.sources.photo_folder import FolderSettings
from imagepipe.pipeline.experiments import common, report as report_lib

NAME = "transfer-grid"
OLD_NAME = "resnet50-grid"
OLD_MODEL = "resnet50"  # what the old name ran
DEFAULT_MODEL = "efficientnet_lite0"  # the one whose ImageNet weights work offline

Table = Tuple[List[str], List[List[str]]]


@dataclasses.dataclass(frozen=True)
class Cell:
    """One cell of the grid."""

    pretrained: bool
    augment: bool

    @property
    def row(self) -> str:
        return "weights" if self.pretrained else "no weights"

    @property
    def column(self) -> str:
        return "augmentation" if self.augment else "no augmentation"

    @property
    def label(self) -> str:
        return f"{self.row}{' + augmentation' if self.augment else ''}"


CELLS: Tuple[Cell, ...] = (Cell(False, False), Cell(False, True), Cell(True, False),
                           Cell(True, True))

# The report's validation accuracy per cell (ResNet50, its own photo set).
REPORTED: Dict[str, float] = {"no weights": 0.39, "no weights + augmentation": 0.45,
                              "weights": 0.90, "weights + augmentation": 0.95}


def renamed_message() -> str:
    """What the old name prints (on stderr) before running the grid."""
    return (f"note: `imagepipe experiment {OLD_NAME}` was renamed to `imagepipe experiment "
            f"{NAME} --model {OLD_MODEL}`; running that (use the new name: the grid now takes "
            f"any model with a pretrained base, default {DEFAULT_MODEL})")


def pretrained_models() -> List[str]:
    """The registered models with a pretrained base (a fine-tuning phase), sorted."""
    from imagepipe.components import models  # pylint: disable=g-import-not-at-top
    return [name for name in models.names() if models.architecture(name).fine_tune is not None]


def check_model(model: str) -> str:
    """The grid's model, when it has a pretrained base.

    Raises:
      ValueError: an unknown model, or one without a pretrained base; the
        message lists the models that qualify.
    """
    from imagepipe.components import models  # pylint: disable=g-import-not-at-top
    qualifying = ", ".join(pretrained_models())
    try:
        architecture = models.architecture(model)
    except models.UnknownModelError:
        raise ValueError(f"unknown model {model!r}; the transfer grid takes a model with a "
                         f"pretrained base: {qualifying}") from None
    if architecture.fine_tune is None:
        raise ValueError(f"model {model!r} has no pretrained base, so the grid has no "
                         f"'weights' row; --model must be one of: {qualifying}")
    return model


def check_weights(weights: str) -> str:
    """The grid's pretrained weights: ``imagenet`` or an existing file.

    Raises:
      ValueError: ``none`` (the grid compares none with some weights).
      FileNotFoundError: the file does not exist.
    """
    if weights == WEIGHTS_NONE:
        raise ValueError("the grid compares no weights with pretrained weights: --weights must "
                         "be imagenet or a weights file")
    if weights != WEIGHTS_IMAGENET and not tf.io.gfile.exists(weights):
        raise FileNotFoundError(f"weights file not found: {weights}")
    return weights


def cell_training(training: TrainingSettings, cell: Cell, weights: str,
                  model: str = DEFAULT_MODEL) -> TrainingSettings:
    """The training settings of one cell: ``model`` with the cell's weights and augmentation."""
    options = training.model_options.replace(
        weights=weights if cell.pretrained else WEIGHTS_NONE, augment=cell.augment)
    return training.replace(model_name=model, model_options=options,
                            fine_tune_epochs=training.fine_tune_epochs if cell.pretrained else 0)


def run(experiment: common.Experiment, data: FolderSettings, training: TrainingSettings,
        weights: str, model: str = DEFAULT_MODEL) -> report_lib.Report:
    """Runs the four cells of ``model`` on the same splits; returns the report.

    Raises:
      ValueError: a model without a pretrained base, or ``weights`` none.
      FileNotFoundError: the weights file does not exist.
    """
    check_model(model)
    check_weights(weights)
    records = []
    for index, cell in enumerate(CELLS):
        experiment.say(f"[{index + 1}/{len(CELLS)}] {model}, {cell.label}")
        config = experiment.config(data, cell_training(training, cell, weights, model),
                                   cell.label)
        records.append(experiment.run(config, cell.label))
    return build_report(records, training, weights, data, model)


# ---------------------------------------------------------------- tables


def grid(records: Sequence[common.RunRecord],
         value: Callable[[common.RunRecord], Optional[float]],
         reported: bool = False) -> Table:
    """A 2x2 table like the report's: rows weights, columns augmentation.

    ``reported``: two more columns with the report's validation accuracy.
    """
    by_label = {r.label: r for r in records}
    headers = ["", "no augmentation", "augmentation"]
    if reported:
        headers += ["report: no augmentation", "report: augmentation"]
    rows = []
    for row in ("no weights", "weights"):
        cells = [c for c in CELLS if c.row == row]
        line = [row] + [report_lib.percent(value(by_label[c.label]), 1) for c in cells]
        if reported:
            line += [report_lib.percent(REPORTED[c.label], 0) for c in cells]
        rows.append(line)
    return headers, rows


def _fine_tuning_text(record: common.RunRecord) -> str:
    fine = record.training.fine_tuning
    if not fine or not fine.epochs_run:
        return "none"
    return (f"{fine.epochs_run} epochs, {fine.unfrozen_layers} layers "
            f"({fine.trainable_parameters:,} parameters) unfrozen, kept {fine.kept}")


def runs_table(records: Sequence[common.RunRecord]) -> Table:
    """(headers, rows): one row per run, the report's validation accuracy beside ours."""
    class_names = records[0].class_names if records else []
    headers = (["run", "report val accuracy", "best val accuracy", "test accuracy",
                "balanced accuracy"]
               + common.recall_columns(class_names)
               + ["epochs run", "best epoch", "fine-tuning", "trainable / all parameters",
                  "s / epoch", "training s", "run s"])
    return headers, [_run_row(record, class_names) for record in records]


def _run_row(record: common.RunRecord, class_names: Sequence[str]) -> List[str]:
    training = record.training
    return ([record.label, report_lib.percent(REPORTED.get(record.label), 0),
             report_lib.percent(training.best_val_accuracy),
             report_lib.percent(record.summary.accuracy),
             report_lib.percent(record.balanced_accuracy())]
            + [report_lib.percent(record.recall(name)) for name in class_names]
            + [str(training.epochs_run), str(training.best_epoch), _fine_tuning_text(record),
               f"{training.trainable_parameters:,} / {training.parameters:,}",
               f"{training.seconds_per_epoch:.1f}", f"{training.fit_seconds:.0f}",
               f"{record.seconds:.0f}"])


# ---------------------------------------------------------------- report


def _description(records: Sequence[common.RunRecord], trainer: TrainingSettings, weights: str,
                 data: FolderSettings, model: str) -> str:
    source = ("ImageNet weights" if weights == WEIGHTS_IMAGENET
              else f"pretrained weights from the file {weights}")
    return (f"Model {model}. Photo folder {data.data_dir}: {len(data.class_names)} classes "
            f"({', '.join(data.class_names)}), images {data.image_size}x{data.image_size}. "
            f"Row 'weights' uses {source}, base frozen"
            + (f", then {trainer.fine_tune_epochs} fine-tuning epochs"
               if trainer.fine_tune_epochs else "")
            + f"; up to {trainer.epochs} epochs, early stopping patience "
            f"{trainer.early_stopping_patience}. Augmentation: RandomFlip('horizontal') + "
            f"RandomRotation(0.2) inside the model. The report (ResNet50, its own photos) got "
            f"39% / 45% / 90% / 95% validation accuracy (none / augmentation / weights / "
            f"both), shown beside ours. Balanced accuracy is the mean of the per-class recall "
            f"on the test split. {common.splits_text(records[0]) if records else ''}")


def _results(records: Sequence[common.RunRecord], weights: str, data: FolderSettings,
             model: str) -> dict:
    return {"experiment": NAME, "model": model, "weights": weights, "data_dir": data.data_dir,
            "reported_val_accuracy": dict(REPORTED), "runs": [r.to_json() for r in records]}


def _add_images(report: report_lib.Report, records: Sequence[common.RunRecord],
                model: str) -> None:
    """Training curves and a confusion matrix per run."""
    for record in records:
        name = common.safe_name(record.label)
        report.image(f"curves_{name}.png",
                     report_lib.training_curves(record.history, f"{model}, {record.label}"),
                     f"{record.label}: accuracy and loss per epoch")
        if record.summary.confusion_matrix:
            report.image(f"confusion_{name}.png", report_lib.confusion_matrix(
                record.summary.confusion_matrix, record.class_names, record.label),
                f"{record.label}: confusion matrix on the test split")


def build_report(records: Sequence[common.RunRecord], trainer: TrainingSettings,
                 weights: str, data: FolderSettings,
                 model: str = DEFAULT_MODEL) -> report_lib.Report:
    """The grid report: the 2x2 tables, the per-run table, curves and confusion matrices."""
    report = report_lib.Report(f"{model} on a photo folder: weights x augmentation")
    report.results = _results(records, weights, data, model)
    report.text(_description(records, trainer, weights, data, model))
    report.heading("Best validation accuracy (the report's measure), beside the report's")
    report.table(*grid(records, lambda r: r.training.best_val_accuracy, reported=True))
    report.heading("Test accuracy (Evaluator, test split)")
    report.table(*grid(records, lambda r: r.summary.accuracy))
    report.heading("Runs")
    report.table(*runs_table(records))
    _add_images(report, records, model)
    return report
