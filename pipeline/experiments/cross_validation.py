"""``cross-validation``: K-fold cross-validation of one model, inside one TFX pipeline run.

The DAG is the product's own (``pipeline.create_components``) with the
:class:`~imagepipe.pipeline.pipeline.KFold` split plan, so the folds go
through the same ExampleGen, ExampleValidator and source Transform as a
normal run, and nothing a fold is scored on ever reaches its training:

* **ExampleGen** writes K splits ``fold0`` ... ``fold{K-1}`` of equal ratio:
  the same seeded permutation that makes train/eval/test cuts the kept
  examples into K exact parts, so the folds are disjoint and together are
  the whole data set (checked after the run from the examples' ids, see
  :func:`fold_ids`).
* **Transform** analyses all folds. Its only analyzer counts the classes,
  which the per-fold Trainers do not use: each recounts the classes of its
  own training folds (``recount_classes``) for balancing.
* **Trainer_fold{i}** trains on every fold but i for a fixed number of
  epochs, without early stopping, and keeps the last weights: the held-out
  fold i is its validation data for the curves only, never used to pick an
  epoch or weights.
* **Evaluator_fold{i}** scores Trainer_fold{i}'s model on fold i with TFMA
  (accuracy, per-class recall, confusion matrix); no baseline, no Pusher:
  cross-validation estimates, it does not publish.

The report gives each fold's metrics and their mean ± standard deviation.
"""

from __future__ import annotations

import dataclasses
import os
import statistics
from typing import Dict, List, Sequence, Set

import tensorflow as tf

from imagepipe.components import features, reports
from imagepipe.components.settings import DataSettings, TrainingSettings
from imagepipe.pipeline import results
from imagepipe.pipeline.experiments import common, report as report_lib

NAME = "cross-validation"


def fold_names(folds: int) -> List[str]:
    """``fold0`` ... ``fold{K-1}``."""
    from imagepipe.pipeline import pipeline  # pylint: disable=g-import-not-at-top
    return pipeline.KFold(folds).fold_names()


def fold_ids(examples_uri: str, folds: int) -> Dict[str, Set[str]]:
    """The example ids in each fold split of an ExampleGen output."""
    spec = {features.EXAMPLE_ID_KEY: tf.io.FixedLenFeature([], tf.string)}
    membership: Dict[str, Set[str]] = {}
    for name in fold_names(folds):
        files = sorted(tf.io.gfile.glob(os.path.join(examples_uri, f"Split-{name}", "*")))
        if not files:
            raise LookupError(f"no examples of split {name} under {examples_uri}")
        dataset = tf.data.TFRecordDataset(files, compression_type="GZIP").batch(4096).map(
            lambda records: tf.io.parse_example(records, spec)[features.EXAMPLE_ID_KEY])
        membership[name] = {i.decode() for batch in dataset for i in batch.numpy()}
    return membership


def check_folds(membership: Dict[str, Set[str]], expected_total: int) -> str:
    """Checks that the folds are disjoint and cover ``expected_total`` examples.

    Returns:
      A sentence saying what was checked.

    Raises:
      AssertionError: folds overlap or miss examples; the message says which.
    """
    union: Set[str] = set()
    for name, ids in membership.items():
        overlap = union & ids
        if overlap:
            raise AssertionError(f"fold {name} shares {len(overlap)} examples with earlier folds")
        union |= ids
    if len(union) != expected_total:
        raise AssertionError(f"the folds hold {len(union)} examples, the data set {expected_total}")
    sizes = ", ".join(str(len(ids)) for ids in membership.values())
    return (f"{len(membership)} folds of {sizes} examples: disjoint, and together all "
            f"{expected_total} kept examples (checked from the example ids).")


@dataclasses.dataclass
class FoldResult:
    """One fold: its model's training and its score on the held-out fold."""

    fold: int
    summary: results.RunSummary  # the fold's evaluation
    training: reports.TrainingSummary
    history: List[dict]


def run(experiment: common.Experiment, data: DataSettings, trainer: TrainingSettings,
        plan) -> report_lib.Report:
    """Runs the K-fold pipeline once and returns the report."""
    from imagepipe.pipeline import local_runner, pipeline  # pylint: disable=g-import-not-at-top
    pipeline_config = experiment.config(data, trainer, f"{trainer.model_name}-cv")
    experiment.say(f"{plan.folds}-fold cross-validation of {trainer.model_name}, "
                   f"{trainer.epochs} epochs per fold: one pipeline run")
    local_runner.run_pipeline(pipeline.create_pipeline(pipeline_config, plan))
    run_id, outputs = results.node_outputs(experiment.metadata_path, experiment.pipeline_name)
    fold_results = [_fold_result(run_id, outputs, i) for i in range(plan.folds)]
    examples = outputs[pipeline.EXAMPLE_GEN_ID]["examples"][0].uri
    from imagepipe.components import sources  # pylint: disable=g-import-not-at-top
    kept = sources.read_ingest_report(
        os.path.join(examples, reports.INGEST_REPORT_FILE)).kept_examples
    checked = check_folds(fold_ids(examples, plan.folds), kept)
    experiment.say(checked)
    return build_report(fold_results, trainer, plan.folds, run_id, checked)


def _fold_result(run_id: str, outputs: Dict[str, dict], fold: int) -> FoldResult:
    from imagepipe.pipeline import pipeline  # pylint: disable=g-import-not-at-top
    evaluation = outputs[pipeline.fold_evaluator_id(fold)]["evaluation"][0].uri
    training = common.read_training_summary(outputs, pipeline.fold_trainer_id(fold))
    summary = results.read_evaluation(results.RunSummary(
        run_id=run_id, components={}, class_names=list(training.class_names)), evaluation)
    return FoldResult(fold, summary, training,
                      common.read_history(outputs, pipeline.fold_trainer_id(fold)))


def _recall(result: FoldResult) -> Dict[str, float]:
    return common.top1_recall(result.summary, result.training.class_names)


def mean_std(values: Sequence[float]) -> str:
    """``99.12% ± 0.31`` (sample standard deviation, percentage points); None values skipped."""
    values = [v for v in values if v is not None]
    if not values:
        return "n/a"
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{100 * statistics.mean(values):.2f}% ± {100 * spread:.2f}"


def table(fold_results: Sequence[FoldResult]):
    """(headers, rows): one row per fold, then the mean ± std row."""
    class_names = list(fold_results[0].training.class_names)
    headers = (["fold", "held-out images", "training images", "accuracy"]
               + common.recall_columns(class_names) + ["s / epoch"])
    rows = []
    for result in fold_results:
        rows.append([f"fold {result.fold}", result.summary.example_count,
                     f"{result.training.training_examples:,}",
                     report_lib.percent(result.summary.accuracy)]
                    + [report_lib.percent(r) for r in _recall(result).values()]
                    + [f"{result.training.seconds_per_epoch:.1f}"])
    rows.append(["mean ± std", "", "", mean_std([r.summary.accuracy for r in fold_results])]
                + [mean_std([_recall(r)[n] for r in fold_results]) for n in class_names]
                + [""])
    return headers, rows


def build_report(fold_results: Sequence[FoldResult], trainer: TrainingSettings,
                 folds: int, run_id: str, checked: str) -> report_lib.Report:
    """The cross-validation report: per-fold table, mean ± std, charts."""
    accuracies = [r.summary.accuracy for r in fold_results]
    report = report_lib.Report(f"{folds}-fold cross-validation: {trainer.model_name}")
    report.results = {
        "experiment": NAME, "run_id": run_id, "folds": folds, "model": trainer.model_name,
        "accuracy_mean": statistics.mean(accuracies),
        "accuracy_std": statistics.stdev(accuracies) if len(accuracies) > 1 else 0.0,
        "per_fold": [{"fold": r.fold, "summary": r.summary.to_json(),
                      "training": r.training.to_dict(), "history": r.history}
                     for r in fold_results]}
    report.text(f"Pipeline run {run_id}. {checked} Each fold's model trained {trainer.epochs} "
                f"epochs (fixed, no early stopping, last weights kept) on the other "
                f"{folds - 1} folds"
                + (f" ({100 * trainer.train_fraction:g}% of them, seeded and stratified)"
                   if trainer.train_fraction < 1 else "")
                + f", balance {trainer.balance} on its own class counts, and was scored by "
                f"the Evaluator on its held-out fold.")
    report.heading("Results")
    report.table(*table(fold_results))
    report.image("fold_accuracy.png", report_lib.bar_chart(
        [f"fold {r.fold}" for r in fold_results], accuracies, "held-out accuracy",
        f"Accuracy per fold, mean {mean_std(accuracies)}"), "Held-out accuracy per fold")
    total = _sum_matrices([r.summary.confusion_matrix for r in fold_results])
    if total:
        report.image("confusion_all_folds.png", report_lib.confusion_matrix(
            total, fold_results[0].training.class_names, "all held-out folds"),
            "Confusion matrix summed over the held-out folds")
    for result in fold_results:
        report.image(f"curves_fold{result.fold}.png", report_lib.training_curves(
            result.history, f"fold {result.fold} (validation = held-out fold)"),
            f"fold {result.fold}: accuracy and loss per epoch")
    return report


def _sum_matrices(matrices: Sequence[List[List[int]]]) -> List[List[int]]:
    present = [m for m in matrices if m]
    if not present:
        return []
    return [[sum(m[i][j] for m in present) for j in range(len(present[0]))]
            for i in range(len(present[0]))]
