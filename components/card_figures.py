"""The model card's pictures: the training curves and the test confusion matrix as PNG figures.

Each picture is a :class:`Figure` block of the card
(:mod:`imagepipe.components.model_card`): its file name beside the card, its
caption and its PNG bytes, drawn by :mod:`imagepipe.components.charts` from
what the run recorded (the Trainer's ``history.json``, the Evaluator's
confusion matrix). A picture that cannot be drawn is said so in a
paragraph instead; it never holds a push back.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Mapping, Sequence, Union

from absl import logging

from imagepipe.components import charts

TRAINING_CURVES_FILE = "training_curves.png"
CONFUSION_MATRIX_FILE = "confusion_matrix.png"


@dataclasses.dataclass(frozen=True)
class Figure:
    """A picture of the card, written as ``file_name`` beside the card's pages."""

    file_name: str
    caption: str
    png: bytes = dataclasses.field(repr=False)


def _drawn(file_name: str, caption: str, draw: Callable[[], bytes]) -> Union[Figure, str]:
    try:
        return Figure(file_name, caption, draw())
    except Exception as error:  # pylint: disable=broad-except  (a card never blocks a push)
        logging.warning("Model card: %s cannot be drawn (%s); the card says so.", file_name, error)
        return f"{caption}: could not be drawn ({type(error).__name__}: {error})."


def training_curves(history: Sequence[Mapping[str, float]], model_name: str
                    ) -> Union[Figure, str]:
    """The accuracy and loss per epoch, training and validation (the Trainer's history rows)."""
    caption = "Training curves: accuracy and loss per epoch, training and validation"
    return _drawn(TRAINING_CURVES_FILE, caption,
                  lambda: charts.training_curves(history, f"{model_name}: training"))


def confusion_matrix(matrix: Sequence[Sequence[int]], class_names: Sequence[str]
                     ) -> Union[Figure, str]:
    """The test split's confusion matrix (rows: true class, columns: predicted)."""
    caption = "Confusion matrix on the test split (rows: true class, columns: predicted)"
    return _drawn(CONFUSION_MATRIX_FILE, caption, lambda: charts.confusion_matrix(
        matrix, class_names, "Test split: confusion matrix"))
