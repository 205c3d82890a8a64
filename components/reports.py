"""The reports the pipeline writes, as typed records with one writer and one reader.

* :class:`FashionMnistIngestReport` and :class:`FolderIngestReport`:
  ``ingest_report.json`` at the root of the ExampleGen's Examples artifact;
  the data source's registration says which one it writes.
* :class:`BalanceReport`: ``balance_report.json`` in the Trainer's model_run.
* :class:`TrainingSummary`: ``training_summary.json`` in the Trainer's model_run:
  the settings applied, what training measured (the stream per epoch, the
  optimizer's learning rate, early stopping), the balance report.

Each is a :class:`imagepipe.components.record.Record`: ``write(path)`` and
``read(path)`` are the only ways in and out, and reading is strict (a key too
many or too few names the file and the key). Everything that shows a report
(the run summary, ``imagepipe inspect``, the experiments) reads these fields,
never string keys. No TensorFlow is imported until a file is read or written.
"""

from __future__ import annotations

import collections
import dataclasses
import posixpath
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from imagepipe.components.record import Record
# Re-exported: the training summary holds them, and readers know them from here.
from imagepipe.components.trainer_records import ClassBias, WeightAverage  # noqa: F401
from imagepipe.components.settings import TrainingSettings
from imagepipe.data import photo_folder

INGEST_REPORT_FILE = "ingest_report.json"
BALANCE_REPORT_FILE = "balance_report.json"
TRAINING_SUMMARY_FILE = "training_summary.json"
HISTORY_FILE = "history.json"


def percent(value: Optional[float]) -> str:
    """``99.48%``, or ``n/a`` for None."""
    return "n/a" if value is None else f"{100.0 * value:.2f}%"


def top_folder(path: str) -> str:
    """The top-level folder of a ``/``-separated relative path; ``.`` for the root."""
    return path.split("/", 1)[0] if "/" in path else "."


def skipped_by_folder(entries: Iterable[Tuple[str, str]]) -> Dict[str, Dict[str, int]]:
    """Counts skipped entries per top-level folder, then per reason.

    Shared by the run summary and ``imagepipe evaluate``.

    Args:
      entries: (relative path, reason) pairs; paths ``/``-separated.

    Returns:
      folder (``.`` for the root) -> reason -> count; folders sorted, reasons
      in ``photo_folder.REASONS`` order (unknown reasons last).
    """
    by_folder: Dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for path, reason in entries:
        by_folder[top_folder(path)][reason] += 1
    return {folder: {reason: counts[reason] for reason in sorted(counts, key=_reason_rank)}
            for folder, counts in sorted(by_folder.items())}


def _reason_rank(reason: str) -> Tuple[int, str]:
    """Sort key: ``photo_folder.REASONS`` order, unknown reasons last by name."""
    order = list(photo_folder.REASONS)
    return (order.index(reason) if reason in order else len(order), reason)


# ---------------------------------------------------------------- ingestion


@dataclasses.dataclass(frozen=True)
class IngestReport(Record):
    """What every ingest report says: its source, and how many examples each split got."""

    KIND = "ingest report"

    source: str

    @property
    def split_totals(self) -> Dict[str, int]:
        """Examples per split."""
        raise NotImplementedError

    @property
    def kept_examples(self) -> int:
        """Examples written (all splits)."""
        raise NotImplementedError

    def summary_lines(self, where: str = "", max_listed: Optional[int] = None) -> List[str]:
        """The report for a run summary, two-space indented; ``where``: the report's file."""
        raise NotImplementedError


@dataclasses.dataclass(frozen=True)
class FashionMnistSplit(Record):
    """One split of a Fashion-MNIST ingestion."""

    KIND = "Fashion-MNIST split counts"

    total: int
    per_label: Dict[str, int]
    per_class: Dict[str, int]


@dataclasses.dataclass(frozen=True)
class FashionMnistIngestReport(IngestReport):
    """A Fashion-MNIST ingestion: read, kept, left out (bag), and each split's counts."""

    KIND = "Fashion-MNIST ingest report"

    images_read: int
    kept: int
    left_out: Dict[str, int]
    split_seed: int
    splits: Dict[str, FashionMnistSplit]

    @property
    def split_totals(self) -> Dict[str, int]:
        return {name: split.total for name, split in self.splits.items()}

    @property
    def kept_examples(self) -> int:
        return self.kept

    def summary_lines(self, where: str = "", max_listed: Optional[int] = None) -> List[str]:
        left_out = ", ".join(f"{k} {v}" for k, v in self.left_out.items()) or "none"
        splits = ", ".join(f"{name} {total}" for name, total in self.split_totals.items())
        return [f"  data: {self.images_read} images read, {self.kept} kept (left out: {left_out}); "
                f"splits: {splits}"]


@dataclasses.dataclass(frozen=True)
class ClassCount(Record):
    KIND = "class count"

    id: int
    name: str
    ingested: int


@dataclasses.dataclass(frozen=True)
class SkippedFile(Record):
    """An entry of a photo folder that was not ingested, and why."""

    KIND = "skipped file"

    path: str
    reason: str
    detail: str


@dataclasses.dataclass(frozen=True)
class FolderSplit(Record):
    KIND = "photo folder split counts"

    total: int
    per_class: Dict[str, int]


@dataclasses.dataclass(frozen=True)
class FolderIngestReport(IngestReport):
    """A photo-folder ingestion: what was seen, ingested, skipped and why, and the splits.

    ``seen == ingested + skipped``. ``splits`` is None when the splits could not
    be made (``imagepipe inspect`` on a folder a run would refuse).
    """

    KIND = "photo folder ingest report"

    root: str
    class_map: Dict[str, Tuple[str, ...]]
    default_class_map: bool
    missing_folders: Tuple[str, ...]
    max_pixels: int
    seen: int
    ingested: int
    skipped: int
    classes: Tuple[ClassCount, ...]
    formats: Dict[str, int]
    colour_modes: Dict[str, int]
    skipped_by_reason: Dict[str, int]
    skipped_files: Tuple[SkippedFile, ...]
    split_seed: int
    splits: Optional[Dict[str, FolderSplit]]

    @classmethod
    def from_scan(cls, folder_scan: photo_folder.FolderScan, splits: Sequence[Tuple[str, int]],
                  seed: int, assignment: Optional[Mapping[str, str]] = None
                  ) -> "FolderIngestReport":
        """The report of a scan and, when the splits could be made, its split assignment."""
        counts = folder_scan.counts()
        split_counts = None
        if assignment is not None:
            split_counts = {}
            for name, _ in splits:
                in_split = collections.Counter(p.class_name for p in folder_scan.photos
                                               if assignment.get(p.path) == name)
                split_counts[name] = FolderSplit(
                    total=sum(in_split.values()),
                    per_class={c: in_split.get(c, 0) for c in folder_scan.class_names})
        return cls(
            source="folder", root=folder_scan.root,
            class_map={name: tuple(folders) for name, folders in folder_scan.class_map},
            default_class_map=folder_scan.default_class_map,
            missing_folders=tuple(folder_scan.missing_folders),
            max_pixels=folder_scan.max_pixels, seen=folder_scan.seen,
            ingested=len(folder_scan.photos), skipped=len(folder_scan.skipped),
            classes=tuple(ClassCount(i, name, counts[name])
                          for i, name in enumerate(folder_scan.class_names)),
            formats=dict(collections.Counter(p.format for p in folder_scan.photos).most_common()),
            colour_modes=dict(collections.Counter(p.mode for p in folder_scan.photos)
                              .most_common()),
            skipped_by_reason=folder_scan.skipped_by_reason(),
            skipped_files=tuple(SkippedFile(e.path, e.reason, e.detail)
                                for e in folder_scan.skipped),
            split_seed=seed, splits=split_counts)

    @property
    def split_totals(self) -> Dict[str, int]:
        return {name: split.total for name, split in (self.splits or {}).items()}

    @property
    def kept_examples(self) -> int:
        return self.ingested

    def class_table(self, indent: str = "    ") -> List[str]:
        """One row per class: its folders, images ingested and per split; a total row."""
        splits = self.splits or {}
        rows = [["class", "folders", "images"] + list(splits)]
        for entry in self.classes:
            rows.append([entry.name, ", ".join(self.class_map[entry.name]), str(entry.ingested)]
                        + [str(split.per_class.get(entry.name, 0)) for split in splits.values()])
        rows.append(["total", "", str(self.ingested)]
                    + [str(split.total) for split in splits.values()])
        return _table(rows, indent)

    def skipped_lines(self, max_listed: Optional[int] = None, indent: str = "    ",
                      where: str = "") -> List[str]:
        """The skipped entries grouped by reason, each path with its detail.

        Args:
          max_listed: list at most this many paths (None: all; 0: no path,
            one count line per folder and reason, see :meth:`skipped_count_lines`).
          indent: prefix of every line.
          where: where the full list is, named when paths are left out.
        """
        if not self.skipped_by_reason:
            return [f"{indent}skipped: nothing"]
        if max_listed == 0:
            return self.skipped_count_lines(indent, where)
        reasons = photo_folder.REASONS
        counts = ", ".join(f"{reasons.get(r, r)} {n}" for r, n in self.skipped_by_reason.items())
        lines = [f"{indent}skipped {self.skipped}: {counts}"]
        order = list(reasons)
        entries = sorted(self.skipped_files, key=lambda e: (
            order.index(e.reason) if e.reason in reasons else 99, e.path))
        shown = entries if max_listed is None else entries[:max_listed]
        width = min(40, max((len(e.path) for e in shown), default=0))
        for entry in shown:
            lines.append(f"{indent}  {entry.path:<{width}}  {entry.reason}: {entry.detail}")
        if len(shown) < len(entries):
            more = f"{indent}  ... and {len(entries) - len(shown)} more"
            lines.append(more + (f", every one in {where}" if where else ""))
        return lines

    def skipped_count_lines(self, indent: str = "    ", where: str = "") -> List[str]:
        """One line per top-level folder and reason: how many entries, and why.

        ``left out: hat/ 123 files (folder 'hat' is not in the class map)`` for
        a folder the class map leaves out (one reason for all its files);
        ``skipped: shoes/ 2 files (not_an_image), see ingest_report.json`` for
        the rest, naming the file of ``where`` (the report listing each file
        with its detail) when given.
        """
        see = f", see {posixpath.basename(where)}" if where else ""
        lines = []
        counts = skipped_by_folder((e.path, e.reason) for e in self.skipped_files)
        for folder, reasons in counts.items():
            for reason, count in reasons.items():
                files = f"{count} file{'' if count == 1 else 's'}"
                if reason == photo_folder.LEFT_OUT:
                    why = self._left_out_detail(folder)
                    lines.append(f"{indent}left out: {folder}/ {files} ({why})")
                else:
                    lines.append(f"{indent}skipped: {folder}/ {files} ({reason}){see}")
        return lines

    def _left_out_detail(self, folder: str) -> str:
        """Why the class map leaves ``folder`` out (the same for each of its files)."""
        return next(e.detail for e in self.skipped_files
                    if e.reason == photo_folder.LEFT_OUT and top_folder(e.path) == folder)

    def summary_lines(self, where: str = "", max_listed: Optional[int] = None) -> List[str]:
        """The whole report: folder, counts, classes and splits, formats, skipped entries.

        Args:
          where: the report's file, named as the list of every skipped file.
          max_listed: skipped paths listed (None: all; 0: none, one count line
            per folder and reason instead, as a run summary shows them).
        """
        kind = "one class per sub-folder" if self.default_class_map else \
            "classes from the class map"
        listed = f" (each listed in {where})" if where and self.skipped else ""
        lines = [f"  data: photo folder {self.root} ({kind})",
                 f"    {self.seen} entries seen = {self.ingested} ingested + "
                 f"{self.skipped} skipped{listed}"]
        lines.extend(self.class_table())
        if self.missing_folders:
            lines.append("    folders in the class map but not found: "
                         + ", ".join(self.missing_folders))
        if self.formats:
            lines.append("    formats: " + ", ".join(f"{k} {v}" for k, v in self.formats.items())
                         + "; colour modes: "
                         + ", ".join(f"{k} {v}" for k, v in self.colour_modes.items()))
        lines.extend(self.skipped_lines(max_listed, where=where))
        return lines


def _table(rows: Sequence[Sequence[str]], indent: str) -> List[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) if i < 2 else cell.rjust(width)
                 for i, (cell, width) in enumerate(zip(row, widths))]
        lines.append((indent + "  ".join(cells)).rstrip())
    return lines


# ---------------------------------------------------------------- training


@dataclasses.dataclass(frozen=True)
class BalanceRow(Record):
    """One class before balancing and per epoch after it."""

    KIND = "balance row"

    class_id: int
    class_name: str
    natural: int
    augmented_copies_per_epoch: int
    per_epoch: int
    loss_weight: float


@dataclasses.dataclass(frozen=True)
class BalanceReport(Record):
    """How the training split was balanced (``balance_report.json``)."""

    KIND = "balance report"

    mode: str
    classes: Tuple[BalanceRow, ...]
    before_total: int
    per_epoch_total: int
    # "augmented", or "exact" where the stream holds a frozen base's features, not images.
    copies: str = "augmented"

    def summary_line(self) -> str:
        """``balance (oversample), training images per epoch: upper 24456, lower ...``."""
        parts = []
        for row in self.classes:
            part = f"{row.class_name} {row.natural}"
            if row.augmented_copies_per_epoch:
                part += f" + {row.augmented_copies_per_epoch} {self.copies} copies"
            if self.mode == "class_weight":
                part += f" (weight {row.loss_weight:.2f})"
            parts.append(part)
        return (f"  balance ({self.mode}), training images per epoch: " + ", ".join(parts)
                + f" = {self.per_epoch_total}")


@dataclasses.dataclass(frozen=True)
class StreamCounts(Record):
    """What the training stream delivered, counted as it ran, one entry per epoch."""

    KIND = "training stream counts"

    images: Tuple[int, ...]
    augmented_copies: Tuple[int, ...]
    photos_rendered: Tuple[int, ...]
    batches: Tuple[int, ...]

    @property
    def photo_share(self) -> Optional[float]:
        """Share of the images rendered as photos, over all epochs."""
        return sum(self.photos_rendered) / sum(self.images) if sum(self.images) else None


@dataclasses.dataclass(frozen=True)
class EarlyStopping(Record):
    """What Keras' EarlyStopping callback did."""

    KIND = "early stopping"

    patience: int
    stopped_epoch: Optional[int]  # the last epoch run when it stopped training; None: it did not


@dataclasses.dataclass(frozen=True)
class FineTuning(Record):
    """What the fine-tuning phase did."""

    KIND = "fine-tuning"

    unfrozen_layers: int
    epochs_run: int
    trainable_parameters: int
    learning_rate: Optional[float]  # the optimizer's, read back after the phase
    kept: str  # "fine-tuned" or "first phase"
    note: str


@dataclasses.dataclass(frozen=True)
class TrainingSummary(Record):
    """What a Trainer run did (``training_summary.json``).

    ``settings`` are the settings applied (the Tuner's hyperparameters
    included); the other fields were measured while training.
    """

    KIND = "training summary"

    settings: TrainingSettings
    parameters: int
    trainable_parameters: int
    epochs_run: int
    best_epoch: int
    best_val_loss: float
    best_val_accuracy: float
    fit_seconds: float
    seconds_per_epoch: float
    training_examples: int
    class_counts: Dict[int, int]
    class_counts_from: str  # "transform", "recounted" or "fraction"
    optimizer_learning_rate: float
    early_stopping: Optional[EarlyStopping]
    fine_tuning: Optional[FineTuning]
    hyperparameters: Dict[str, Any]
    balance: BalanceReport
    stream: StreamCounts
    class_bias: Optional[ClassBias]  # None: --class-bias none
    weight_average: Optional[WeightAverage] = None  # None: the kept epoch's own weights
    frozen_features_seconds: Optional[float] = None  # None: the whole model trained on images
    warm_started_from: Optional[str] = None  # the base model (--warm-start); None: from scratch

    @property
    def class_names(self) -> Tuple[str, ...]:
        return self.settings.class_names

    def summary_lines(self) -> List[str]:
        """The training lines of a run summary."""
        lines = [f"  training: {self.settings.model_name}, {self.epochs_run} epochs run, best "
                 f"epoch {self.best_epoch} (val accuracy {percent(self.best_val_accuracy)}), "
                 f"{self.parameters:,} parameters, {self.fit_seconds:.0f} s" + (
                     "" if self.frozen_features_seconds is None else f" (frozen base: features "
                     f"computed once, {self.frozen_features_seconds:.0f} s)"),
                 self.balance.summary_line()]
        if self.settings.photo_augmentation > 0:
            per_epoch = ", ".join(f"{p:,} of {n:,}" for p, n in
                                  zip(self.stream.photos_rendered, self.stream.images))
            lines.append(f"  photo augmentation: {percent(self.stream.photo_share)} of the "
                         f"training images rendered as photos (per epoch: {per_epoch})")
        if self.weight_average is not None:
            lines.append(self.weight_average.summary_line())
        if self.class_bias is not None:
            lines.append(self.class_bias.summary_line())
        return lines
