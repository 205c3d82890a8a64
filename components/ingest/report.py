"""The Fashion-MNIST ingest report: what was read, what was left out, and each split's counts."""

from __future__ import annotations

from typing import Dict, Mapping, Sequence

import numpy as np

from imagepipe.components import features, reports
from imagepipe.data import fashion_mnist


def build_report(source: str, data: fashion_mnist.LabelledImages, class_map: Mapping[int, int],
                 split_names: Sequence[str], assignment: np.ndarray, kept: np.ndarray,
                 seed: int) -> reports.FashionMnistIngestReport:
    """Summarizes an ingestion: what was read, left out, and each split's counts.

    Args:
      source: ``idx`` or ``tfds``.
      data: every image read, with its original label.
      class_map: original label -> class id; other labels were left out.
      split_names: the splits, in the order ``assignment`` numbers them.
      assignment: split index of each kept image, in data order.
      kept: which images of ``data`` were kept.
      seed: the split seed.

    Returns:
      The report written as ``ingest_report.json``.
    """
    names = features.FASHION_MNIST_LABEL_NAMES
    left_out = {names[label]: int(np.sum(data.labels == label))
                for label in sorted(set(range(len(names))) - set(class_map))}
    kept_labels = data.labels[kept]
    splits = {split: _split_counts(kept_labels[assignment == index], class_map)
              for index, split in enumerate(split_names)}
    return reports.FashionMnistIngestReport(
        source=source, images_read=int(len(data)), kept=int(kept.sum()), left_out=left_out,
        split_seed=seed, splits=splits)


def _split_counts(labels: np.ndarray, class_map: Mapping[int, int]) -> reports.FashionMnistSplit:
    """One split's total, images per original label and per super-class."""
    names = features.FASHION_MNIST_LABEL_NAMES
    per_class: Dict[str, int] = {
        features.SUPER_CLASS_NAMES[target]: int(
            sum(np.sum(labels == label) for label, t in class_map.items() if t == target))
        for target in sorted(set(class_map.values()))}
    return reports.FashionMnistSplit(
        total=int(len(labels)),
        per_label={names[label]: int(np.sum(labels == label)) for label in sorted(class_map)},
        per_class=per_class)
