"""Records of what the Trainer did to a fitted model: weight averaging and the class bias.

They live apart from :mod:`imagepipe.components.reports` (which re-exports
them) so that each stays one job; like every record they import no TensorFlow.
"""

from __future__ import annotations

import dataclasses
from typing import Dict, List, Optional, Sequence, Tuple

from imagepipe.components.record import Record


def _percent(value: Optional[float]) -> str:
    from imagepipe.components.reports import percent  # pylint: disable=g-import-not-at-top
    return percent(value)


@dataclasses.dataclass(frozen=True)
class WeightAverage(Record):
    """The weights exported are the mean of those at the end of several epochs (``--average-epochs``).

    ``val_loss`` and ``val_accuracy`` are the averaged model's own, measured on
    the validation split after averaging; the epoch rows of the history are
    those of the single epochs.
    """

    KIND = "weight average"

    epochs: Tuple[int, ...]  # 1-based, the kept epoch last
    val_loss: float
    val_accuracy: float

    def summary_line(self) -> str:
        """``weights: mean of epochs 5-9 (val loss 0.0123, val accuracy 99.60%)``."""
        span = (f"epochs {self.epochs[0]}-{self.epochs[-1]}" if len(self.epochs) > 1
                else f"epoch {self.epochs[0]}")
        return (f"  weights: mean of {span} (val loss {self.val_loss:.4f}, "
                f"val accuracy {_percent(self.val_accuracy)})")


@dataclasses.dataclass(frozen=True)
class ClassBias(Record):
    """The decision bias fitted on the validation split (``--class-bias balanced``).

    Recall is per class name; NaN stands for a class the split has no image of.
    """

    KIND = "class bias"

    bias: Dict[str, float]
    recall_before: Dict[str, float]
    recall_after: Dict[str, float]
    accuracy_before: float
    accuracy_after: float
    validation_images: int
    note: str  # why the bias is zero, or ""

    def in_order(self, class_names: Sequence[str]) -> List[float]:
        """The bias in class id order (``class_names``)."""
        return [self.bias[name] for name in class_names]

    def summary_line(self) -> str:
        """``class bias (balanced on 9,450 validation images): upper -0.99, ...; recall ...``."""
        biases = ", ".join(f"{name} {value:+.2f}" for name, value in self.bias.items())
        recalls = ", ".join(f"{name} {_percent(self.recall_before[name])} -> "
                            f"{_percent(self.recall_after[name])}" for name in self.bias)
        line = (f"  class bias (balanced on {self.validation_images:,} validation images): "
                f"{biases}; recall {recalls}; accuracy {_percent(self.accuracy_before)} -> "
                f"{_percent(self.accuracy_after)}")
        return line + (f" ({self.note})" if self.note else "")
