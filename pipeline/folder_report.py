"""Human-readable form of a photo folder's ingestion report.

The same lines appear in ``imagepipe inspect PATH`` (a dry run) and in the
summary of ``imagepipe run folder PATH``, so what the dry run promises is
what the run reports. The report itself is built by
``imagepipe.data.photo_folder.build_report``.
"""

from __future__ import annotations

from typing import List, Optional, Sequence

from imagepipe.data import photo_folder


def _table(rows: Sequence[Sequence[str]], indent: str) -> List[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) if i < 2 else cell.rjust(width)
                 for i, (cell, width) in enumerate(zip(row, widths))]
        lines.append((indent + "  ".join(cells)).rstrip())
    return lines


def class_table(report: dict, indent: str = "    ") -> List[str]:
    """One row per class: its folders, images ingested and per split; a total row."""
    splits = list(report.get("splits", {}))
    rows = [["class", "folders", "images"] + splits]
    for entry in report["classes"]:
        name = entry["name"]
        folders = ", ".join(report["class_map"][name])
        rows.append([name, folders, str(entry["ingested"])] +
                    [str(report["splits"][s]["per_class"].get(name, 0)) for s in splits])
    rows.append(["total", "", str(report["ingested"])] +
                [str(report["splits"][s]["total"]) for s in splits])
    return _table(rows, indent)


def skipped_lines(report: dict, max_listed: Optional[int] = None, indent: str = "    ",
                  where: str = "") -> List[str]:
    """The skipped entries grouped by reason, each path with its detail.

    Args:
      report: the ingestion report.
      max_listed: list at most this many paths (None: all).
      indent: prefix of every line.
      where: where the full list is, named when paths are left out.
    """
    by_reason = report["skipped_by_reason"]
    if not by_reason:
        return [f"{indent}skipped: nothing"]
    counts = ", ".join(f"{photo_folder.REASONS.get(r, r)} {n}" for r, n in by_reason.items())
    lines = [f"{indent}skipped {report['skipped']}: {counts}"]
    entries = sorted(report["skipped_files"],
                     key=lambda e: (list(photo_folder.REASONS).index(e["reason"])
                                    if e["reason"] in photo_folder.REASONS else 99, e["path"]))
    shown = entries if max_listed is None else entries[:max_listed]
    width = min(40, max((len(e["path"]) for e in shown), default=0))
    for entry in shown:
        lines.append(f"{indent}  {entry['path']:<{width}}  {entry['reason']}: {entry['detail']}")
    if len(shown) < len(entries):
        more = f"{indent}  ... and {len(entries) - len(shown)} more"
        lines.append(more + (f", every one in {where}" if where else ""))
    return lines


def format_report(report: dict, max_listed: Optional[int] = None, where: str = "") -> List[str]:
    """The whole report: folder, counts, classes and splits, formats, skipped entries."""
    kind = ("one class per sub-folder" if report.get("default_class_map")
            else "classes from the class map")
    lines = [f"  data: photo folder {report['root']} ({kind})",
             f"    {report['seen']} entries seen = {report['ingested']} ingested + "
             f"{report['skipped']} skipped"]
    lines.extend(class_table(report))
    if report.get("missing_folders"):
        lines.append("    folders in the class map but not found: " +
                     ", ".join(report["missing_folders"]))
    if report.get("formats"):
        lines.append("    formats: " + ", ".join(f"{k} {v}" for k, v in report["formats"].items())
                     + "; colour modes: " +
                     ", ".join(f"{k} {v}" for k, v in report.get("colour_modes", {}).items()))
    lines.extend(skipped_lines(report, max_listed, where=where))
    return lines
