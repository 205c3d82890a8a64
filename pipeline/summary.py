"""Human-readable summary of a pipeline run."""

from __future__ import annotations

from typing import List, Optional, Sequence

from imagepipe.components.reports import percent as _percent
from imagepipe.pipeline.results import RunSummary

# Skipped paths listed in a run summary: none, one count line per folder and reason
# instead; the ingest report (ingest_report.json) lists every file with its reason.
SKIPPED_LISTED = 0


def format_summary(summary: RunSummary, elapsed_seconds: float) -> str:
    """Formats the run summary: data, training, test metrics and where the model went."""
    lines: List[str] = ["", f"Run {summary.run_id} finished in {elapsed_seconds:.0f} s"]
    if summary.ingest_report:
        lines.extend(summary.ingest_report.summary_lines(where=summary.ingest_report_path or "",
                                                         max_listed=SKIPPED_LISTED))
    if summary.spans:
        lines.append(f"  spans trained on: {spans_line(summary.spans, summary.spans_from_cache)}")
    if summary.drift:
        lines.extend(f"  {line}" for line in summary.drift.summary_lines())
        lines.append(f"    drift report: {summary.drift_page}")
    if summary.training:
        lines.extend(summary.training.summary_lines())
        if summary.training.settings.warm_start:
            lines.append(warm_start_line(summary.training.warm_started_from))
    count = f" on {summary.example_count} test images" if summary.example_count else ""
    lines.append(f"  test accuracy: {_percent(summary.accuracy)}{count}")
    names = summary.class_names
    if summary.recall:
        lines.append("  recall per class: " + ", ".join(
            f"{name} {_percent(summary.recall.get(name))}" for name in names))
    if summary.confusion_matrix:
        lines.append("  confusion matrix (rows: true class, columns: predicted):")
        lines.extend(confusion_matrix_lines(names, summary.confusion_matrix))
    if summary.pushed:
        lines.append(f"  blessed and pushed to {summary.pushed_destination}")
        if summary.model_card:
            lines.append(f"  model card: {summary.model_card} (and .html beside it)")
        if summary.drift_accepted:
            lines.append(f"  drift accepted (--accept-drift): {summary.drift_accepted}")
    elif summary.push_held:
        lines.append(f"  push held: {summary.push_held}; rerun with --accept-drift to push")
    elif summary.blessed is False:
        lines.append("  not blessed (below the accuracy bound or worse than the latest "
                     "blessed model): nothing pushed")
    else:
        lines.append("  not pushed")
    if summary.classifications:
        lines.append(f"  classifications of the unlabelled folder: {summary.classifications}.csv "
                     f"and .jsonl (skipped files in {summary.classifications}.skipped.csv)")
    reused = [node for node, state in summary.components.items() if state == "CACHED"]
    if reused:
        lines.append(f"  reused from cache: {', '.join(reused)}")
    return "\n".join(lines)


def warm_start_line(base_model: Optional[str]) -> str:
    """What ``--warm-start`` did: the model it started from, or that there was none."""
    if base_model:
        return f"  warm start: initialised from the latest blessed model {base_model}"
    return "  warm start: no blessed model yet, trained from scratch"


def spans_line(spans: str, from_cache: Optional[str] = None) -> str:
    """The spans of a run, e.g. ``1, 2, 3 (ingested now: 3; from the span cache: 1, 2)``
    or ``0 (no span folders)``."""
    if spans == "0":
        return "0 (no span folders)"
    if from_cache is None:
        return spans.replace(",", ", ")
    cached = [s for s in from_cache.split(",") if s]
    now = [s for s in spans.split(",") if s not in cached]
    return (f"{', '.join(spans.split(','))} (ingested now: {', '.join(now) or 'none'}; "
            f"from the span cache: {', '.join(cached) or 'none'})")


def confusion_matrix_lines(names: Sequence[str], matrix: Sequence[Sequence[int]],
                           indent: str = "    ") -> List[str]:
    """A confusion matrix as text: a header of class names, then one row per true class.

    Args:
      names: the class names, in class id order.
      matrix: counts, rows: true class, columns: predicted.
      indent: put before every line.
    """
    width = max(8, *(len(str(v)) + 2 for row in matrix for v in row),
                *(len(name) + 2 for name in names))
    label = max(8, *(len(name) + 1 for name in names))
    lines = [f"{indent}{'':{label}s}" + "".join(f"{name:>{width}}" for name in names)]
    for name, row in zip(names, matrix):
        lines.append(f"{indent}{name:{label}s}" + "".join(f"{v:>{width}}" for v in row))
    return lines
