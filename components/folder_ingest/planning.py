"""The folder's ingestion plan: scan each span of the window, check it, split it, report.

A class with no usable image, or too few for every split, stops the plan with
a message naming it; otherwise each span is split on its own (stratified,
seeded), so a photo keeps its split when later spans arrive.
"""

from __future__ import annotations

from typing import Dict, Sequence, Tuple

from imagepipe.components import reports
from imagepipe.data import class_map as class_map_lib
from imagepipe.data import photo_folder, spans

Plan = Tuple[photo_folder.FolderScan, Dict[str, str], reports.FolderIngestReport]


def _raise_problems(root: str, folder_scan: photo_folder.FolderScan,
                    split_names: Sequence[str]) -> None:
    """Stops with every problem of the scan (a class without enough images), if any."""
    found = photo_folder.problems(folder_scan, split_names)
    if found:
        raise photo_folder.FolderError(
            f"photo folder {root} cannot be ingested:\n  " + "\n  ".join(found) +
            f"\n  ({folder_scan.seen} entries seen, {len(folder_scan.photos)} usable, "
            f"{len(folder_scan.skipped)} skipped; `imagepipe inspect {root}` lists them)")


def plan(root: str, class_map: class_map_lib.ClassMap, splits: Sequence[Tuple[str, int]],
         seed: int, max_pixels: int, limits: photo_folder.ScanLimits = photo_folder.ScanLimits(),
         window: Sequence[Tuple[int, str]] = ((spans.NO_SPANS, ""),)) -> Plan:
    """Scans the window's span folders (within ``limits``) and assigns splits per span.

    Args:
      root: the photo folder, local or gs://.
      class_map: (class name, (folder, ...)) pairs in class id order.
      splits: (split name, relative size) pairs.
      seed: seed of the stratified split.
      max_pixels: images with more pixels are skipped as decompression bombs.
      limits: file size cap, model input size and whether links are followed.
      window: (span, folder relative to ``root``) pairs; ``(0, "")``: ``root`` itself.

    Returns:
      (scan, photo path -> split, report), paths relative to ``root``.

    Raises:
      photo_folder.FolderError: a class of a span has no usable image, or too
        few for every split; the message names the class and the skipped files.
    """
    split_names = [name for name, _ in splits]
    scans = []
    for _, relative in window:
        span_root = spans.join(root, relative)
        span_scan = photo_folder.scan(span_root, class_map, max_pixels=max_pixels, limits=limits)
        _raise_problems(span_root, span_scan, split_names)
        scans.append((relative, span_scan))
    folder_scan = spans.merge(root, scans)
    assignment: Dict[str, str] = {}
    for relative, _ in scans:
        members = [p for p in folder_scan.photos
                   if not relative or p.path.startswith(relative + "/")]
        assignment.update(photo_folder.assign_splits(members, splits, seed))
    report = reports.FolderIngestReport.from_scan(folder_scan, splits, seed, assignment)
    return folder_scan, assignment, report
