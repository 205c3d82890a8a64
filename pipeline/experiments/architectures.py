"""``architectures``: every Fashion-MNIST model of the registry, trained on the same splits.

One pipeline run per model, in one pipeline (ExampleGen and Transform are
reused from the cache, so every model sees the same train/eval/test splits).
The report has, per model: test accuracy and per-class recall (Evaluator, on
the test split), parameters, epochs run, best epoch (lowest validation loss)
and seconds per epoch; training curves and a confusion matrix image each.
"""

from __future__ import annotations

import re
from typing import List, Optional, Sequence

from imagepipe.components.settings import DataSettings, TrainingSettings
from imagepipe.pipeline.experiments import common, report as report_lib

NAME = "architectures"


def default_models() -> List[str]:
    """Every registered model made for Fashion-MNIST, in natural order (arch4 before arch10)."""
    from imagepipe.components import models  # pylint: disable=g-import-not-at-top
    return sorted(models.names(models.FASHION_MNIST), key=_natural)


def _natural(name: str):
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def run(experiment: common.Experiment, data: DataSettings, trainer: TrainingSettings,
        model_names: Optional[Sequence[str]] = None) -> report_lib.Report:
    """Runs the pipeline once per model and returns the comparison report.

    Args:
      experiment: folders and runner of the experiment.
      data: the Fashion-MNIST source; the same splits for every model.
      trainer: training settings shared by the models (``model_name`` is set
        per run).
      model_names: the models to compare; default: every Fashion-MNIST model.
    """
    records = []
    names = list(model_names or default_models())
    for index, name in enumerate(names):
        experiment.say(f"[{index + 1}/{len(names)}] model {name}")
        config = experiment.config(data, trainer.replace(model_name=name), name)
        records.append(experiment.run(config, name))
    return build_report(records, trainer)


def table(records: Sequence[common.RunRecord]):
    """(headers, rows) of the comparison table: one row per run."""
    class_names = records[0].class_names if records else []
    headers = (["model", "test accuracy"] + common.recall_columns(class_names)
               + ["parameters", "epochs run", "best epoch", "best val accuracy", "s / epoch"])
    rows = []
    for record in records:
        training = record.training
        rows.append([record.label, report_lib.percent(record.summary.accuracy)]
                    + [report_lib.percent(record.recall(name)) for name in class_names]
                    + [f"{training.parameters:,}", training.epochs_run, training.best_epoch,
                       report_lib.percent(training.best_val_accuracy),
                       f"{training.seconds_per_epoch:.1f}"])
    return headers, rows


def build_report(records: Sequence[common.RunRecord],
                 trainer: TrainingSettings) -> report_lib.Report:
    """The architectures report: table, accuracy chart, curves and confusion matrices."""
    report = report_lib.Report("Fashion-MNIST architectures, same splits")
    report.results = {"experiment": NAME, "runs": [r.to_json() for r in records]}
    report.text(f"Each model trained up to {trainer.epochs} epochs (early stopping on "
                f"validation loss, patience {trainer.early_stopping_patience}, best weights "
                f"restored), batch {trainer.batch_size}, learning rate {trainer.learning_rate}, "
                f"balance {trainer.balance}; test metrics from the Evaluator on the test split. "
                f"arch4 is a stand-in: the report does not list its layers. "
                f"{common.splits_text(records[0]) if records else ''} Seconds per epoch include "
                f"the validation pass (the first epoch also fills the input cache) and depend "
                f"on the machine's load.")
    report.heading("Results")
    report.table(*table(records))
    report.image("accuracy.png", report_lib.bar_chart(
        [r.label for r in records], [r.summary.accuracy for r in records], "test accuracy",
        "Test accuracy per model"), "Test accuracy per model")
    for record in records:
        report.heading(f"{record.label}")
        report.text(f"Pipeline run {record.summary.run_id}, {record.seconds:.0f} s.")
        report.image(f"curves_{common.safe_name(record.label)}.png",
                     report_lib.training_curves(record.history, f"{record.label}: training"),
                     f"{record.label}: accuracy and loss per epoch")
        if record.summary.confusion_matrix:
            report.image(f"confusion_{common.safe_name(record.label)}.png",
                         report_lib.confusion_matrix(record.summary.confusion_matrix,
                                                     record.class_names,
                                                     f"{record.label}: test split"),
                         f"{record.label}: confusion matrix on the test split")
    return report
