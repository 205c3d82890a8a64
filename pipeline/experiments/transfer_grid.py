"""``resnet50-grid``: the report's part 2, ResNet50 on a photo folder, weights x augmentation.

Four pipeline runs on the same photo-folder splits (one pipeline, so the
folder ExampleGen and Transform run once):

==================  ==================  ==================
                    no augmentation     augmentation
==================  ==================  ==================
no weights          ``weights=none``    ``+ augment``
weights             ``weights=W``       ``+ augment``
==================  ==================  ==================

``W`` is ``imagenet`` (Keras downloads the file; needs the internet) or a
local ResNet50 ``include_top=False`` weights file. With weights the base is
frozen, and the optional fine-tuning phase unfreezes its top blocks; without
weights the whole network trains from the start. The report's table gave
validation accuracy (39% / 45% / 90% / 95%); this one gives the best
validation accuracy and the Evaluator's test accuracy.
"""

from __future__ import annotations

import dataclasses
from typing import List, Sequence, Tuple

import tensorflow as tf

from imagepipe.components.settings import (WEIGHTS_IMAGENET, WEIGHTS_NONE, FolderSettings,
                                           TrainingSettings)
from imagepipe.pipeline.experiments import common, report as report_lib

NAME = "resnet50-grid"
MODEL = "resnet50"


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


def cell_training(training: TrainingSettings, cell: Cell, weights: str) -> TrainingSettings:
    """The training settings of one cell: ResNet50 with its weights and augmentation."""
    options = training.model_options.replace(
        weights=weights if cell.pretrained else WEIGHTS_NONE, augment=cell.augment)
    return training.replace(model_name=MODEL, model_options=options,
                            fine_tune_epochs=training.fine_tune_epochs if cell.pretrained else 0)


def run(experiment: common.Experiment, data: FolderSettings, training: TrainingSettings,
        weights: str) -> report_lib.Report:
    """Runs the four cells on the same splits; returns the report."""
    check_weights(weights)
    records = []
    for index, cell in enumerate(CELLS):
        experiment.say(f"[{index + 1}/{len(CELLS)}] ResNet50, {cell.label}")
        config = experiment.config(data, cell_training(training, cell, weights), cell.label)
        records.append(experiment.run(config, cell.label))
    return build_report(records, training, weights, data)


def grid(records: Sequence[common.RunRecord], value) -> Tuple[List[str], List[List[str]]]:
    """A 2x2 table like the report's: rows weights, columns augmentation."""
    by_label = {r.label: r for r in records}
    rows = []
    for row in ("no weights", "weights"):
        cells = [c for c in CELLS if c.row == row]
        rows.append([row] + [report_lib.percent(value(by_label[c.label]), 1) for c in cells])
    return ["", "no augmentation", "augmentation"], rows


def runs_table(records: Sequence[common.RunRecord]):
    """(headers, rows): one row per run."""
    class_names = records[0].class_names if records else []
    headers = (["run", "best val accuracy", "test accuracy"]
               + common.recall_columns(class_names)
               + ["epochs run", "best epoch", "fine-tuning", "trainable / all parameters",
                  "s / epoch"])
    rows = []
    for record in records:
        training = record.training
        fine = training.fine_tuning
        fine_text = (f"{fine.epochs_run} epochs, {fine.unfrozen_layers} layers "
                     f"({fine.trainable_parameters:,} parameters) unfrozen, kept {fine.kept}"
                     if fine and fine.epochs_run else "none")
        rows.append([record.label, report_lib.percent(training.best_val_accuracy),
                     report_lib.percent(record.summary.accuracy)]
                    + [report_lib.percent(record.recall(name)) for name in class_names]
                    + [training.epochs_run, training.best_epoch, fine_text,
                       f"{training.trainable_parameters:,} / {training.parameters:,}",
                       f"{training.seconds_per_epoch:.1f}"])
    return headers, rows


def build_report(records: Sequence[common.RunRecord], trainer: TrainingSettings,
                 weights: str, data: FolderSettings) -> report_lib.Report:
    """The grid report: the 2x2 tables, the per-run table, curves and confusion matrices."""
    report = report_lib.Report("ResNet50 on a photo folder: weights x augmentation")
    report.results = {"experiment": NAME, "weights": weights, "data_dir": data.data_dir,
                      "runs": [r.to_json() for r in records]}
    source = ("ImageNet weights (downloaded by Keras)" if weights == WEIGHTS_IMAGENET
              else f"pretrained weights from the file {weights}")
    report.text(f"Photo folder {data.data_dir}: {len(data.class_names)} classes "
                f"({', '.join(data.class_names)}), images {data.image_size}x{data.image_size}. "
                f"Row 'weights' uses {source}, base frozen"
                + (f", then {trainer.fine_tune_epochs} fine-tuning epochs"
                   if trainer.fine_tune_epochs else "")
                + f"; up to {trainer.epochs} epochs, early stopping patience "
                f"{trainer.early_stopping_patience}. Augmentation: RandomFlip('horizontal') + "
                f"RandomRotation(0.2) inside the model. The report got 39% / 45% / 90% / 95% "
                f"validation accuracy (none / augmentation / weights / both). "
                f"{common.splits_text(records[0]) if records else ''}")
    report.heading("Best validation accuracy (the report's measure)")
    report.table(*grid(records, lambda r: r.training.best_val_accuracy))
    report.heading("Test accuracy (Evaluator, test split)")
    report.table(*grid(records, lambda r: r.summary.accuracy))
    report.heading("Runs")
    report.table(*runs_table(records))
    for record in records:
        name = common.safe_name(record.label)
        report.image(f"curves_{name}.png",
                     report_lib.training_curves(record.history, f"ResNet50, {record.label}"),
                     f"{record.label}: accuracy and loss per epoch")
        if record.summary.confusion_matrix:
            report.image(f"confusion_{name}.png", report_lib.confusion_matrix(
                record.summary.confusion_matrix, record.class_names, record.label),
                f"{record.label}: confusion matrix on the test split")
    return report
