"""Reads an Evaluator's output: accuracy, the confusion matrix and the per-class figures.

The one reader of what TFMA recorded, for the run summary
(:mod:`imagepipe.pipeline.results`) and the Pusher's model card alike. The
per-class recall and precision are read off the confusion matrix: TFMA's
binarized ``classId:N topK:1`` recall is not recall (it said 100% for every
class of a model that predicts one).
"""

from __future__ import annotations

import dataclasses
from typing import Dict, List, Mapping, Optional, Sequence


@dataclasses.dataclass
class EvaluationMetrics:
    """What an Evaluator measured on the test split (overall slice).

    Attributes:
      accuracy: share of test images classified right; None when not recorded.
      example_count: test images; None when not recorded.
      confusion_matrix: counts, rows: true class, columns: predicted; [] when
        not recorded.
      recall: per class, from the matrix (None: no test image of the class).
      precision: per class, from the matrix (None: the class never predicted).
    """

    accuracy: Optional[float] = None
    example_count: Optional[int] = None
    confusion_matrix: List[List[int]] = dataclasses.field(default_factory=list)
    recall: Dict[str, Optional[float]] = dataclasses.field(default_factory=dict)
    precision: Dict[str, Optional[float]] = dataclasses.field(default_factory=dict)


def matrix_recall(matrix: Sequence[Sequence[int]], class_names: Sequence[str]
                  ) -> Dict[str, Optional[float]]:
    """Per-class recall: the confusion matrix's diagonal over its row sums (true classes).

    None for a class without test images.
    """
    return {name: (row[index] / sum(row) if sum(row) else None)
            for index, (name, row) in enumerate(zip(class_names, matrix))}


def matrix_precision(matrix: Sequence[Sequence[int]], class_names: Sequence[str]
                     ) -> Dict[str, Optional[float]]:
    """Per-class precision: the diagonal over the column sums; None for a class never predicted."""
    columns = [list(column) for column in zip(*matrix)]
    return {name: (column[index] / sum(column) if sum(column) else None)
            for index, (name, column) in enumerate(zip(class_names, columns))}


def balanced_accuracy(recall: Mapping[str, Optional[float]]) -> Optional[float]:
    """The mean of the per-class recall, over the classes that have one.

    A class without examples has no recall (None) and is left out; None when no
    class has one.
    """
    known = [value for value in recall.values() if value is not None]
    return sum(known) / len(known) if known else None


def read(evaluation_uri: str, class_names: Sequence[str]) -> EvaluationMetrics:
    """The overall figures of an Evaluator output (``ModelEvaluation`` artifact's URI).

    Args:
      evaluation_uri: the artifact's folder.
      class_names: the model's classes in id order (the matrix's size and labels).
    """
    import tensorflow_model_analysis as tfma  # pylint: disable=g-import-not-at-top
    # With a baseline the results are keyed by model name; without, they are not.
    result = tfma.load_eval_result(evaluation_uri, model_name="candidate")
    if not result.slicing_metrics:
        result = tfma.load_eval_result(evaluation_uri)
    metrics = EvaluationMetrics()
    for slice_key, values in result.slicing_metrics:
        if not slice_key:
            _take_overall(metrics, values.get("", {}).get("", {}))
    for slice_key, plots in result.plots or []:
        matrix = plots.get("", {}).get("", {}).get("multiClassConfusionMatrixAtThresholds")
        if not slice_key and matrix:
            metrics.confusion_matrix = _confusion_matrix(matrix, len(class_names))
            metrics.recall = matrix_recall(metrics.confusion_matrix, class_names)
            metrics.precision = matrix_precision(metrics.confusion_matrix, class_names)
    return metrics


def _take_overall(metrics: EvaluationMetrics, values: dict) -> None:
    def value(name):
        return values.get(name, {}).get("doubleValue")

    metrics.accuracy = value("accuracy")
    count = value("example_count")
    metrics.example_count = int(count) if count is not None else None


def _confusion_matrix(matrix: dict, size: int) -> List[List[int]]:
    grid = [[0] * size for _ in range(size)]
    entries = matrix.get("matrices", [{}])[0].get("entries", [])
    for entry in entries:
        actual = int(entry.get("actualClassId", 0))
        predicted = int(entry.get("predictedClassId", 0))
        if 0 <= actual < size and 0 <= predicted < size:
            grid[actual][predicted] = int(entry.get("numWeightedExamples", 0))
    return grid
