"""A photo evaluation as text and files: the printout, the JSON report and the pictures."""

from __future__ import annotations

import json
import os
from typing import List, Optional

from imagepipe.components.reports import percent
from imagepipe.data import photo_folder
from imagepipe.pipeline.photo_eval import metrics, pictures
from imagepipe.pipeline.photo_eval.models import EvaluatedModel
from imagepipe.pipeline.summary import confusion_matrix_lines

REPORT_JSON = "photo_evaluation.json"
CONFUSION_PNG = "confusion_matrix.png"
CONTACT_SHEET_PNG = "worst_photos.png"


def write_report(evaluation: metrics.PhotoEvaluation, output_dir: str,
                 root: Optional[str] = None, model: Optional[EvaluatedModel] = None) -> List[str]:
    """Writes the JSON report, the confusion matrix PNG and (given the folder and the model)
    the contact sheet of the worst photos; returns their paths."""
    os.makedirs(output_dir, exist_ok=True)
    json_path = os.path.join(output_dir, REPORT_JSON)
    with open(json_path, "w") as f:
        json.dump(evaluation.to_dict(), f, indent=2)
    png_path = os.path.join(output_dir, CONFUSION_PNG)
    with open(png_path, "wb") as f:
        f.write(pictures.confusion_matrix_png(evaluation))
    written = [json_path, png_path]
    if root is not None and model is not None:
        sheet = pictures.contact_sheet_png(evaluation, root, model)
        if sheet is not None:
            sheet_path = os.path.join(output_dir, CONTACT_SHEET_PNG)
            with open(sheet_path, "wb") as f:
                f.write(sheet)
            written.append(sheet_path)
    return written


def photos_lines(evaluation: metrics.PhotoEvaluation) -> List[str]:
    """The class map, a warning per missing folder and how many photos were evaluated."""
    lines = [f"class map: {evaluation.class_map}"]
    lines += [f"warning: the class map names folder {folder!r}, which is not in the photo "
              f"folder" for folder in evaluation.missing_folders]
    lines.append(f"photos evaluated: {evaluation.total} ({len(evaluation.skipped)} left out)")
    return lines


def skipped_lines(evaluation: metrics.PhotoEvaluation) -> List[str]:
    """One count line per folder of what was left out, with the count of each reason."""
    lines = []
    for folder, reasons in evaluation.skipped_by_folder().items():
        detail = ", ".join(f"{photo_folder.REASONS.get(reason, reason)} {count}"
                           for reason, count in reasons.items())
        lines.append(f"  left out in {folder}/: {sum(reasons.values())} ({detail})")
    return lines


def _near_empty_line(evaluation: metrics.PhotoEvaluation) -> str:
    share = evaluation.near_empty_share
    if share is None:
        return ("near-empty normalization: not known (the model has no normalized_images "
                "signature, or its input is not a Fashion-MNIST-like image)")
    return (f"near-empty normalization: {100 * share:.1f}% of the photos "
            f"({evaluation.near_empty_count}; {metrics.NEAR_EMPTY_RULE})")


def folder_lines(evaluation: metrics.PhotoEvaluation) -> List[str]:
    """The photos of each source folder per predicted class, and the folder's recall."""
    entries = evaluation.folders()
    names = evaluation.class_names
    folder_width = max(8, *(len(e.folder) + 2 for e in entries)) if entries else 8
    class_width = max(8, *(len(name) + 2 for name in names))
    lines = ["recall per source folder (photos predicted as each class; recall: share "
             "predicted as the folder's class):",
             f"    {'folder':{folder_width}s}{'class':{class_width}s}{'photos':>8s}"
             + "".join(f"{name:>{class_width}s}" for name in names) + f"{'recall':>10s}"]
    for entry in entries:
        lines.append(f"    {entry.folder:{folder_width}s}{entry.true_class:{class_width}s}"
                     f"{entry.total:>8d}"
                     + "".join(f"{entry.predicted[name]:>{class_width}d}" for name in names)
                     + f"{percent(entry.recall):>10s}")
    return lines


def format_evaluation(evaluation: metrics.PhotoEvaluation) -> str:
    """Formats the metrics, the matrix, the recall per source folder when a class map merges
    folders, the near-empty share and what was left out as text."""
    lines = [f"model: {evaluation.model}"] + photos_lines(evaluation)
    lines += [f"accuracy: {percent(evaluation.accuracy)}",
              f"balanced accuracy: {percent(evaluation.balanced_accuracy)}",
              "recall per class: " + ", ".join(
                  f"{name} {percent(value)}" for name, value in evaluation.recall.items()),
              _near_empty_line(evaluation),
              "confusion matrix (rows: true class, columns: predicted):"]
    lines += confusion_matrix_lines(evaluation.class_names, evaluation.confusion_matrix)
    if evaluation.merges_folders:
        lines += folder_lines(evaluation)
    return "\n".join(lines + skipped_lines(evaluation))
