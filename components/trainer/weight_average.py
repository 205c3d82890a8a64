"""Weight averaging: the exported weights are the mean of those at the end of several epochs.

A model trained on Fashion-MNIST and judged on real photos is judged far from
what it was fitted to, and there one epoch's weights are one draw among many:
the epochs of a run differ by several points of balanced accuracy on real
photos while Fashion-MNIST's validation loss hardly moves. The mean of the
weights of the last epochs up to the kept one (stochastic weight averaging
over epochs, with Adam's constant learning rate) is steadier, though not
better than a good epoch: offered, not a default (decision 0027,
``--average-epochs``).

The mean covers the ``count`` epochs that end with the kept epoch: the best
one when early stopping restores it, else the last one run; fewer when the
run has fewer before it. Every weight is averaged, batch normalization's
moving statistics included (they are not recomputed).
"""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import numpy as np
import tf_keras as keras


class EpochWeightAverage(keras.callbacks.Callback):
    """Keeps the weights of recent epochs and sets their mean when training ends.

    Put it after the EarlyStopping callback, if any: its ``on_train_end``
    must run after the best weights are restored, and its ``on_epoch_end``
    reads the best epoch so far.

    Attributes:
      averaged: the 1-based epochs whose mean the model holds after training;
        empty when there was nothing to average (one epoch).
    """

    def __init__(self, count: int,
                 early_stopping: Optional[keras.callbacks.EarlyStopping] = None):
        super().__init__()
        if count < 1:
            raise ValueError(f"epochs to average must be at least 1, got {count}")
        self._count = count
        self._early_stopping = early_stopping
        self._weights: Dict[int, List[np.ndarray]] = {}
        self._last_epoch = -1
        self.averaged: Tuple[int, ...] = ()

    def _kept_epoch(self) -> int:
        """The 0-based epoch whose weights training leaves in the model."""
        stopper = self._early_stopping
        if stopper is not None and stopper.restore_best_weights and \
                stopper.best_weights is not None:
            return int(stopper.best_epoch)
        return self._last_epoch

    def on_train_begin(self, logs=None):
        self._weights.clear()
        self.averaged = ()

    def on_epoch_end(self, epoch, logs=None):
        self._last_epoch = epoch
        self._weights[epoch] = self.model.get_weights()
        # The kept epoch only moves forward: what lies a full window before it is never needed.
        oldest_needed = self._kept_epoch() - self._count + 1
        for old in [e for e in self._weights if e < oldest_needed]:
            del self._weights[old]

    def on_train_end(self, logs=None):
        kept = self._kept_epoch()
        epochs = sorted(e for e in self._weights if kept - self._count < e <= kept)
        if len(epochs) > 1:
            snapshots = [self._weights[e] for e in epochs]
            self.model.set_weights([
                np.mean([weights[i] for weights in snapshots], axis=0).astype(first.dtype)
                for i, first in enumerate(snapshots[0])])
            self.averaged = tuple(e + 1 for e in epochs)
        self._weights.clear()
