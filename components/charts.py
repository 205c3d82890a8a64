"""PNG charts of a training run: its curves per epoch and a confusion matrix.

The experiment reports (:mod:`imagepipe.pipeline.experiments.report`) and the
model card of a pushed version (:mod:`imagepipe.components.card_figures`)
draw them alike. Each function returns PNG bytes (matplotlib, Agg backend).
"""

from __future__ import annotations

import io
from typing import Any, Mapping, Optional, Sequence


def pyplot() -> Any:
    """matplotlib's pyplot on the Agg backend (no display needed), imported when first drawn."""
    import matplotlib  # pylint: disable=g-import-not-at-top
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top
    return plt


def png(figure: Any) -> bytes:
    """The figure laid out tightly as PNG bytes; the figure is closed."""
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png")
    pyplot().close(figure)
    return buffer.getvalue()


def training_curves(history: Sequence[Mapping[str, float]], title: str) -> bytes:
    """Accuracy and loss per epoch, training vs validation; a line where fine-tuning starts.

    Args:
      history: the Trainer's rows per epoch (``history.json``): ``epoch``,
        ``accuracy``, ``loss``, ``val_accuracy``, ``val_loss`` and ``phase``
        (2 for fine-tuning epochs).
      title: the figure's title.
    """
    plt = pyplot()
    figure, axes = plt.subplots(1, 2, figsize=(9, 3.4), dpi=100)
    epochs = [row["epoch"] for row in history]
    for ax, metric in zip(axes, ("accuracy", "loss")):
        ax.plot(epochs, [row.get(metric) for row in history], "o-", label="training")
        ax.plot(epochs, [row.get(f"val_{metric}") for row in history], "s-", label="validation")
        second = [row["epoch"] for row in history if row.get("phase", 1) == 2]
        if second:
            ax.axvline(second[0] - 0.5, color="grey", linestyle=":", label="fine-tuning")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.set_xticks(epochs)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    figure.suptitle(title)
    return png(figure)


def confusion_matrix(matrix: Sequence[Sequence[int]], class_names: Sequence[str],
                     title: str, title_size: Optional[float] = None) -> bytes:
    """A confusion matrix: rows true classes, columns predicted, counts in the cells.

    Args:
      matrix: counts, rows: true class, columns: predicted, in class id order.
      class_names: the classes in class id order.
      title: the figure's title.
      title_size: the title's font size (None: matplotlib's), smaller for a
        title of several lines.
    """
    plt = pyplot()
    size = max(3.2, 0.9 * len(class_names) + 1.5)
    figure, ax = plt.subplots(figsize=(size, size * 0.85), dpi=100)
    ax.imshow(matrix, cmap="Blues")
    peak = max((max(row) for row in matrix), default=0)
    for i, row in enumerate(matrix):
        for j, value in enumerate(row):
            ax.text(j, i, str(value), ha="center", va="center",
                    color="white" if value > peak / 2 else "black")
    ax.set_xticks(range(len(class_names)), class_names, rotation=30)
    ax.set_yticks(range(len(class_names)), class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=title_size)
    return png(figure)
