"""``data-size``: test accuracy against the share of the training split used.

The report looked for the "optimal amount of data". Here one model trains on
seeded, stratified fractions of the same training split (``train_fraction``:
per class, a fixed seeded order, so a smaller fraction's images lie inside a
larger one's); validation and test splits stay whole. One pipeline run per
fraction; the report gives a table, a plot, and the smallest fraction whose
test accuracy is within ``tolerance`` of the best.
"""

from __future__ import annotations

from typing import Optional, Sequence

from imagepipe.components.settings import DataSettings, TrainingSettings
from imagepipe.pipeline.experiments import common, report as report_lib

NAME = "data-size"
DEFAULT_FRACTIONS = (0.1, 0.25, 0.5, 1.0)
DEFAULT_TOLERANCE = 0.005  # 0.5 percentage points


def label(fraction: float) -> str:
    """``0.25`` -> ``25%``."""
    return f"{100.0 * fraction:g}%"


def check_fractions(fractions: Sequence[float]) -> Sequence[float]:
    """Returns the fractions, sorted, when each is in (0, 1]; ValueError naming the bad one."""
    for fraction in fractions:
        if not 0.0 < fraction <= 1.0:
            raise ValueError(f"fractions must be in (0, 1], got {fraction}")
    if len(set(fractions)) != len(fractions):
        raise ValueError(f"fractions repeat: {list(fractions)}")
    return sorted(fractions)


def run(experiment: common.Experiment, data: DataSettings,
        trainer: TrainingSettings, fractions: Sequence[float] = DEFAULT_FRACTIONS,
        tolerance: float = DEFAULT_TOLERANCE) -> report_lib.Report:
    """Runs the pipeline once per fraction of the training split; returns the report."""
    records = []
    fractions = check_fractions(fractions)
    for index, fraction in enumerate(fractions):
        experiment.say(f"[{index + 1}/{len(fractions)}] {trainer.model_name} on "
                       f"{label(fraction)} of the training split")
        config = experiment.config(
            data, trainer.replace(train_fraction=fraction),
            f"{trainer.model_name}-{label(fraction).rstrip('%')}pct")
        records.append(experiment.run(config, label(fraction)))
    return build_report(records, fractions, trainer, tolerance)


def enough_data(fractions: Sequence[float], accuracies: Sequence[Optional[float]],
                tolerance: float) -> Optional[float]:
    """The smallest fraction whose accuracy is within ``tolerance`` of the best one."""
    known = [(f, a) for f, a in zip(fractions, accuracies) if a is not None]
    if not known:
        return None
    best = max(a for _, a in known)
    return min(f for f, a in known if a >= best - tolerance)


def table(records: Sequence[common.RunRecord], fractions: Sequence[float]):
    """(headers, rows): one row per run."""
    class_names = records[0].class_names if records else []
    headers = (["fraction", "training images", "test accuracy"]
               + common.recall_columns(class_names)
               + ["best val accuracy", "epochs run", "best epoch", "s / epoch"])
    rows = []
    for fraction, record in zip(fractions, records):
        training = record.training
        rows.append([label(fraction), f"{training.training_examples:,}",
                     report_lib.percent(record.summary.accuracy)]
                    + [report_lib.percent(record.recall(name)) for name in class_names]
                    + [report_lib.percent(training.best_val_accuracy),
                       training.epochs_run, training.best_epoch,
                       f"{training.seconds_per_epoch:.1f}"])
    return headers, rows


def build_report(records: Sequence[common.RunRecord], fractions: Sequence[float],
                 trainer: TrainingSettings, tolerance: float) -> report_lib.Report:
    """The data-size report: table, accuracy plot, the smallest fraction that is enough."""
    accuracies = [r.summary.accuracy for r in records]
    enough = enough_data(fractions, accuracies, tolerance)
    report = report_lib.Report(f"Amount of training data: {trainer.model_name}")
    report.results = {"experiment": NAME, "fractions": list(fractions),
                      "enough_fraction": enough, "tolerance": tolerance,
                      "runs": [r.to_json() for r in records]}
    report.text(f"{trainer.model_name} trained up to {trainer.epochs} epochs on seeded, "
                f"stratified fractions of the same training split (smaller fractions are "
                f"subsets of larger ones); validation and test splits whole. Balance "
                f"{trainer.balance} applies to the images kept. "
                f"{common.splits_text(records[0]) if records else ''}")
    report.heading("Results")
    report.table(*table(records, fractions))
    if enough is not None:
        report.text(f"Smallest fraction within {100 * tolerance:g} percentage points of the "
                    f"best test accuracy: {label(enough)} of the training split.")
    images = [r.training.training_examples for r in records]
    report.image("accuracy_vs_data.png", report_lib.line_chart(
        images, {"test accuracy": accuracies,
                 "best validation accuracy": [r.training.best_val_accuracy
                                              for r in records]},
        "training images (natural, before balancing)", "accuracy",
        f"{trainer.model_name}: accuracy against training data"),
        "Accuracy against the number of training images")
    for fraction, record in zip(fractions, records):
        report.image(f"curves_{common.safe_name(label(fraction))}.png",
                     report_lib.training_curves(record.history,
                                                f"{label(fraction)} of the training split"),
                     f"{label(fraction)}: accuracy and loss per epoch")
    return report
