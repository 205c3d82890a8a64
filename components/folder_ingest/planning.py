"""The folder's ingestion plan: scan each span of the window, check it, split it, report.

A class with no usable image, or too few for every split, stops the plan with
a message naming it; otherwise each span is split on its own (stratified,
seeded), so a photo keeps its split when later spans arrive.
"""

from __future__ import annotations

from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from imagepipe.components import reports
from imagepipe.data import class_map as class_map_lib
from imagepipe.data import photo_folder, spans

Plan = Tuple[photo_folder.FolderScan, Dict[str, str], reports.FolderIngestReport]
SpanScan = Tuple[str, photo_folder.FolderScan]  # (span folder relative to the root, its scan)


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
    scans = scan_window(root, class_map, max_pixels, limits, window, split_names)
    return split_window(root, scans, splits, seed)


def scan_window(root: str, class_map: class_map_lib.ClassMap, max_pixels: int,
                limits: photo_folder.ScanLimits, window: Sequence[Tuple[int, str]],
                split_names: Sequence[str],
                known: Optional[Mapping[str, photo_folder.FolderScan]] = None
                ) -> List[SpanScan]:
    """Each span folder's own scan, checked; ``known`` scans (by folder) are not redone.

    Args:
      root: the photo folder, local or gs://.
      class_map: (class name, (folder, ...)) pairs in class id order.
      max_pixels: images with more pixels are skipped as decompression bombs.
      limits: file size cap, model input size and whether links are followed.
      window: (span, folder relative to ``root``) pairs; ``(0, "")``: ``root`` itself.
      split_names: the splits every class must reach.
      known: scans of span folders already made (e.g. from the span cache).

    Returns:
      (span folder relative to ``root``, its scan) pairs, in window order.

    Raises:
      photo_folder.FolderError: as :func:`plan`.
    """
    known = known or {}
    scans = []
    for _, relative in window:
        span_root = spans.join(root, relative)
        span_scan = known.get(relative) or photo_folder.scan(
            span_root, class_map, max_pixels=max_pixels, limits=limits)
        _raise_problems(span_root, span_scan, split_names)
        scans.append((relative, span_scan))
    return scans


def split_window(root: str, scans: Sequence[SpanScan], splits: Sequence[Tuple[str, int]],
                 seed: int) -> Plan:
    """Merges the span scans (a later span's copy of an earlier photo is skipped) and
    assigns splits per span; returns what :func:`plan` returns."""
    folder_scan = spans.merge(root, scans)
    assignment: Dict[str, str] = {}
    for relative, _ in scans:
        assignment.update(photo_folder.assign_splits(span_photos(folder_scan, relative),
                                                     splits, seed))
    report = reports.FolderIngestReport.from_scan(folder_scan, splits, seed, assignment)
    return folder_scan, assignment, report


def span_photos(folder_scan: photo_folder.FolderScan, relative: str) -> List[photo_folder.Photo]:
    """The merged scan's photos from the span folder ``relative`` ('': all of them)."""
    return [p for p in folder_scan.photos if not relative or p.path.startswith(relative + "/")]
