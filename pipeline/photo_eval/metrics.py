"""Metrics of a model on a photo folder: per photo, per class and per source folder.

A class map may merge several source folders into one class (Fashion-MNIST's
``upper`` is the dresses, shirts, coats... of a photo set): the recall of each
source folder says which of them the model gets right, beside the recall of
each class.
"""

from __future__ import annotations

import dataclasses
from typing import Dict, List, Optional, Tuple

import numpy as np

from imagepipe.components import evaluation_metrics, reports

# A normalized image is "near-empty" when under 5% of its pixels are above 0.3 (of 1).
LIT_LEVEL = 0.3
NEAR_EMPTY_LIT_FRACTION = 0.05
NEAR_EMPTY_RULE = (f"under {NEAR_EMPTY_LIT_FRACTION:.0%} of the normalized pixels "
                   f"above {LIT_LEVEL}")
WORST_SHOWN = 24
ONE_CLASS_PER_FOLDER = "one class per sub-folder"


def lit_fraction(normalized: np.ndarray) -> Optional[float]:
    """Share of pixels above ``LIT_LEVEL`` of a Fashion-MNIST-like image ([H, W, 1] in [0, 1]).

    None for other inputs (colour, or not in [0, 1]: e.g. a ResNet's), where
    "lit" means nothing.
    """
    if normalized.ndim != 3 or normalized.shape[-1] != 1:
        return None
    if normalized.min() < -1e-6 or normalized.max() > 1 + 1e-6:
        return None
    return float(np.mean(normalized > LIT_LEVEL))


@dataclasses.dataclass(frozen=True)
class PhotoResult:
    """One photo: its class and source folder, the model's answer and how lit its input was."""

    path: str
    true_class: str
    predicted: str
    probabilities: Tuple[float, ...]  # in the model's class order
    lit_fraction: Optional[float]  # share of normalized pixels above LIT_LEVEL
    image_format: str = "JPEG"
    folder: str = ""  # the top-level sub-folder it was found in ("": not recorded)

    @property
    def near_empty(self) -> Optional[bool]:
        """Whether what the model saw was nearly black; None when not known."""
        return None if self.lit_fraction is None else self.lit_fraction < NEAR_EMPTY_LIT_FRACTION

    @property
    def source_folder(self) -> str:
        """The folder the photo came from, or its class when none was recorded."""
        return self.folder or self.true_class


@dataclasses.dataclass(frozen=True)
class FolderRecall:
    """What the model made of the photos of one source folder.

    Attributes:
      folder: the source folder's name.
      true_class: the class the class map puts it in.
      predicted: photos per predicted class, in the model's class order.
    """

    folder: str
    true_class: str
    predicted: Dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.predicted.values())

    @property
    def recall(self) -> float:
        """Share of the folder's photos predicted as its class."""
        return self.predicted.get(self.true_class, 0) / max(self.total, 1)

    def to_dict(self) -> dict:
        return {"class": self.true_class, "photos": self.total, "predicted": self.predicted,
                "recall": self.recall}


@dataclasses.dataclass
class PhotoEvaluation:
    """Metrics of a model on a photo folder, with one row per photo."""

    class_names: List[str]
    confusion_matrix: List[List[int]]  # rows: true class, columns: predicted
    skipped: List[Tuple[str, str]]  # (path, reason) of photos not evaluated
    photos: List[PhotoResult] = dataclasses.field(default_factory=list)
    model: str = ""
    class_map: str = ONE_CLASS_PER_FOLDER
    missing_folders: Tuple[str, ...] = ()
    label: str = ""  # a short name of the model, for a column of a comparison

    @property
    def total(self) -> int:
        return int(np.sum(self.confusion_matrix))

    @property
    def accuracy(self) -> float:
        matrix = np.asarray(self.confusion_matrix)
        return float(np.trace(matrix) / max(matrix.sum(), 1))

    @property
    def recall(self) -> Dict[str, float]:
        """Recall per class that has photos, in class order."""
        recall = evaluation_metrics.matrix_recall(self.confusion_matrix, self.class_names)
        return {name: value for name, value in recall.items() if value is not None}

    @property
    def balanced_accuracy(self) -> float:
        """The mean recall of the classes that have photos; 0 without photos."""
        return evaluation_metrics.balanced_accuracy(self.recall) or 0.0

    @property
    def near_empty_share(self) -> Optional[float]:
        """Share of photos whose normalized image is nearly empty; None when not known."""
        flags = [photo.near_empty for photo in self.photos if photo.near_empty is not None]
        return float(np.mean(flags)) if flags else None

    @property
    def near_empty_count(self) -> int:
        return sum(bool(photo.near_empty) for photo in self.photos)

    def folders(self) -> List[FolderRecall]:
        """One entry per source folder with photos, in class order, then by folder name."""
        counts: Dict[Tuple[str, str], Dict[str, int]] = {}
        for photo in self.photos:
            row = counts.setdefault((photo.source_folder, photo.true_class),
                                    dict.fromkeys(self.class_names, 0))
            row[photo.predicted] += 1
        order = sorted(counts, key=lambda key: (self.class_names.index(key[1]), key[0]))
        return [FolderRecall(folder, true_class, counts[(folder, true_class)])
                for folder, true_class in order]

    @property
    def merges_folders(self) -> bool:
        """Whether a class gathers folders other than its own (a class map that merges)."""
        return any(entry.folder != entry.true_class for entry in self.folders())

    def true_probability(self, photo: PhotoResult) -> float:
        return photo.probabilities[self.class_names.index(photo.true_class)]

    def worst(self, count: int = WORST_SHOWN) -> List[PhotoResult]:
        """The photos with the lowest probability of their true class, worst first."""
        return sorted(self.photos, key=self.true_probability)[:count]

    def skipped_by_folder(self) -> Dict[str, Dict[str, int]]:
        """Left-out files per top-level folder ('.' for the root), then per reason."""
        return reports.skipped_by_folder(self.skipped)

    def metrics_dict(self) -> dict:
        """The figures without the rows per photo: what a comparison shows of a model."""
        return {"model": self.model, "label": self.label, "total": self.total,
                "accuracy": self.accuracy, "balanced_accuracy": self.balanced_accuracy,
                "recall": self.recall,
                "recall_per_folder": {entry.folder: entry.to_dict() for entry in self.folders()},
                "near_empty_share": self.near_empty_share}

    def to_dict(self) -> dict:
        """The whole report: metrics, confusion matrix, every photo and every left-out path."""
        return {**self.metrics_dict(), "class_map": self.class_map,
                "class_names": self.class_names, "confusion_matrix": self.confusion_matrix,
                "near_empty_rule": NEAR_EMPTY_RULE,
                "missing_folders": list(self.missing_folders),
                "photos": [{"path": p.path, "folder": p.source_folder, "true": p.true_class,
                            "predicted": p.predicted,
                            "probabilities": dict(zip(self.class_names, p.probabilities)),
                            "lit_fraction": p.lit_fraction, "near_empty": p.near_empty}
                           for p in self.photos],
                "skipped": [{"path": p, "reason": r} for p, r in self.skipped]}
