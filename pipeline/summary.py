"""Human-readable summary of a pipeline run."""

from __future__ import annotations

from typing import List

from imagepipe.pipeline import folder_report
from imagepipe.pipeline.results import RunSummary

FOLDER_SKIPPED_LISTED = 20  # skipped paths listed in a run summary; the report has all


def _percent(value) -> str:
    return "n/a" if value is None else f"{100.0 * value:.2f}%"


def format_balance(balance_report: dict) -> List[str]:
    """Formats the balance report: natural counts and images per epoch, per class."""
    parts = []
    for row in balance_report["classes"]:
        part = f"{row['class']} {row['natural']}"
        if row["augmented_copies_per_epoch"]:
            part += f" + {row['augmented_copies_per_epoch']} augmented"
        if balance_report["mode"] == "class_weight":
            part += f" (weight {row['loss_weight']:.2f})"
        parts.append(part)
    return [f"  balance ({balance_report['mode']}), training images per epoch: "
            + ", ".join(parts) + f" = {balance_report['per_epoch_total']}"]


def format_summary(summary: RunSummary, elapsed_seconds: float) -> str:
    """Formats the run summary: data, training, test metrics and where the model went."""
    lines: List[str] = ["", f"Run {summary.run_id} finished in {elapsed_seconds:.0f} s"]
    report = summary.ingest_report
    if report and report.get("source") == "folder":
        lines.extend(folder_report.format_report(report, max_listed=FOLDER_SKIPPED_LISTED,
                                                 where=summary.ingest_report_path or ""))
    elif report:
        left_out = ", ".join(f"{k} {v}" for k, v in report["left_out"].items()) or "none"
        splits = ", ".join(f"{name} {s['total']}" for name, s in report["splits"].items())
        lines.append(f"  data: {report['read']} images read, {report['kept']} kept "
                     f"(left out: {left_out}); splits: {splits}")
    training = summary.training
    if training:
        lines.append(f"  training: {training['config']['model_name']}, "
                     f"{training['epochs_run']} epochs run, best epoch {training['best_epoch']} "
                     f"(val accuracy {_percent(training['best_val_accuracy'])}), "
                     f"{training['parameters']:,} parameters, {training['fit_seconds']:.0f} s")
    if training and training.get("balance"):
        lines.extend(format_balance(training["balance"]))
    count = f" on {summary.example_count} test images" if summary.example_count else ""
    lines.append(f"  test accuracy: {_percent(summary.accuracy)}{count}")
    names = summary.class_names
    if summary.recall:
        lines.append("  recall per class: " + ", ".join(
            f"{name} {_percent(summary.recall.get(name))}" for name in names))
    if summary.confusion_matrix:
        lines.append("  confusion matrix (rows: true class, columns: predicted):")
        width = max(8, *(len(str(v)) + 2 for row in summary.confusion_matrix for v in row),
                    *(len(name) + 2 for name in names))
        label = max(8, *(len(name) + 1 for name in names))
        header = "".join(f"{name:>{width}}" for name in names)
        lines.append(f"    {'':{label}s}{header}")
        for name, row in zip(names, summary.confusion_matrix):
            lines.append(f"    {name:{label}s}" + "".join(f"{v:>{width}}" for v in row))
    if summary.pushed:
        lines.append(f"  blessed and pushed to {summary.pushed_destination}")
    elif summary.blessed is False:
        lines.append("  not blessed (below the accuracy bound or worse than the latest "
                     "blessed model): nothing pushed")
    else:
        lines.append("  not pushed")
    reused = [node for node, state in summary.components.items() if state == "CACHED"]
    if reused:
        lines.append(f"  reused from cache: {', '.join(reused)}")
    return "\n".join(lines)
