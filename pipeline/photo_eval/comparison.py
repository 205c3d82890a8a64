"""Several models on the same photos side by side: one table of their metrics, as text and JSON.

Each model is named by its folder and version (:func:`models.version_label`);
its full report goes to a sub-folder of that name, and ``comparison.json``
beside them holds every model's metrics.
"""

from __future__ import annotations

import json
import os
from typing import List, Optional, Sequence, Tuple

from imagepipe.components.reports import percent
from imagepipe.pipeline.photo_eval import metrics, output
from imagepipe.pipeline.photo_eval.models import EvaluatedModel

COMPARISON_JSON = "comparison.json"
Row = Tuple[str, List[str]]


def distinct_labels(evaluations: Sequence[metrics.PhotoEvaluation]) -> List[str]:
    """The models' labels, a second ``fashion_mnist/7`` becoming ``fashion_mnist/7 #2``."""
    labels: List[str] = []
    for i, evaluation in enumerate(evaluations):
        label = evaluation.label or f"model {i + 1}"
        labels.append(label if label not in labels else f"{label} #{labels.count(label) + 1}")
    return labels


def _row(name: str, values: Sequence[Optional[float]]) -> Row:
    return name, [percent(value) for value in values]


def comparison_rows(evaluations: Sequence[metrics.PhotoEvaluation]) -> List[Row]:
    """Photos, accuracy, balanced accuracy, recall per class, per source folder (when the class
    map merges folders) and near-empty share: one row each, a value per model."""
    first = evaluations[0]
    rows = [("photos", [str(e.total) for e in evaluations]),
            _row("accuracy", [e.accuracy for e in evaluations]),
            _row("balanced accuracy", [e.balanced_accuracy for e in evaluations])]
    rows += [_row(f"recall {name}", [e.recall.get(name) for e in evaluations])
             for name in first.recall]
    if first.merges_folders:
        recalls = [{f.folder: f.recall for f in e.folders()} for e in evaluations]
        rows += [_row(f"recall {entry.folder} ({entry.true_class})",
                      [by_folder.get(entry.folder) for by_folder in recalls])
                 for entry in first.folders()]
    rows.append(_row("near-empty share", [e.near_empty_share for e in evaluations]))
    return rows


def format_comparison(evaluations: Sequence[metrics.PhotoEvaluation]) -> str:
    """The models compared: who they are, the photos, the side-by-side table, what was left out."""
    labels = distinct_labels(evaluations)
    lines = [f"models compared: {len(evaluations)}"]
    lines += [f"  {label}: {e.model}" for label, e in zip(labels, evaluations)]
    lines += output.photos_lines(evaluations[0])
    rows = comparison_rows(evaluations)
    first = max(len(name) for name, _ in rows) + 2
    width = max(10, *(len(label) + 2 for label in labels))
    lines.append(f"    {'':{first}s}" + "".join(f"{label:>{width}s}" for label in labels))
    lines += [f"    {name:{first}s}" + "".join(f"{value:>{width}s}" for value in values)
              for name, values in rows]
    return "\n".join(lines + output.skipped_lines(evaluations[0]))


def comparison_dict(evaluations: Sequence[metrics.PhotoEvaluation],
                    reports: Sequence[str] = ()) -> dict:
    """The comparison as JSON: the photos, then each model's metrics (and its report's path)."""
    first = evaluations[0]
    models = []
    for i, (label, evaluation) in enumerate(zip(distinct_labels(evaluations), evaluations)):
        entry = {**evaluation.metrics_dict(), "label": label}
        if i < len(reports):
            entry["report"] = reports[i]
        models.append(entry)
    return {"class_map": first.class_map, "total": first.total,
            "missing_folders": list(first.missing_folders), "models": models}


def write_comparison(evaluations: Sequence[metrics.PhotoEvaluation], output_dir: str,
                     root: Optional[str] = None,
                     models: Sequence[Optional[EvaluatedModel]] = ()) -> List[str]:
    """Writes each model's report into a sub-folder named by its label, then
    ``comparison.json``; returns the paths written."""
    written: List[str] = []
    reports = []
    for i, (label, evaluation) in enumerate(zip(distinct_labels(evaluations), evaluations)):
        folder = os.path.join(output_dir, label.replace("/", "-").replace(" #", "-"))
        model = models[i] if i < len(models) else None
        paths = output.write_report(evaluation, folder, root, model)
        reports.append(paths[0])
        written += paths
    json_path = os.path.join(output_dir, COMPARISON_JSON)
    with open(json_path, "w") as f:
        json.dump(comparison_dict(evaluations, reports), f, indent=2)
    return written + [json_path]
