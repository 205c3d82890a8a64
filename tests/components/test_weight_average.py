"""The epoch weight average: the mean of the right epochs' weights, with and without early stopping."""

from __future__ import annotations

from typing import List, Sequence

import numpy as np
import pytest
import tf_keras as keras

from imagepipe.components.trainer.weight_average import EpochWeightAverage


class _Recorder(keras.callbacks.Callback):
    """Keeps every epoch's weights, as the model holds them at the epoch's end."""

    def __init__(self):
        super().__init__()
        self.weights: List[List[np.ndarray]] = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())


class _ScriptedValLoss(keras.callbacks.Callback):
    """Writes a given validation loss into each epoch's logs, for EarlyStopping to read."""

    def __init__(self, losses: Sequence[float]):
        super().__init__()
        self._losses = losses

    def on_epoch_end(self, epoch, logs=None):
        logs["val_loss"] = self._losses[epoch]


def _fit(epochs: int, callbacks: List[keras.callbacks.Callback]) -> keras.Model:
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3),
                              keras.layers.BatchNormalization()])
    model.compile(optimizer=keras.optimizers.Adam(0.1), loss="mse")
    rng = np.random.default_rng(0)
    model.fit(rng.normal(size=(64, 4)), rng.normal(size=(64, 3)), epochs=epochs,
              batch_size=16, verbose=0, callbacks=callbacks)
    return model


def _mean(snapshots: Sequence[List[np.ndarray]]) -> List[np.ndarray]:
    return [np.mean([weights[i] for weights in snapshots], axis=0)
            for i in range(len(snapshots[0]))]


def _assert_weights(model: keras.Model, expected: List[np.ndarray]) -> None:
    for got, want in zip(model.get_weights(), expected):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


def test_without_early_stopping_the_model_holds_the_mean_of_the_last_epochs():
    recorder, average = _Recorder(), EpochWeightAverage(3)
    model = _fit(5, [recorder, average])
    assert average.averaged == (3, 4, 5)
    _assert_weights(model, _mean(recorder.weights[2:5]))
    assert not np.allclose(model.get_weights()[0], recorder.weights[-1][0])


def test_with_early_stopping_the_mean_ends_with_the_restored_best_epoch():
    recorder = _Recorder()
    stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=3,
                                            restore_best_weights=True)
    average = EpochWeightAverage(2, stopper)
    # Best at epoch 4 (1-based); epochs 5 and 6 do not improve; training runs all 6.
    model = _fit(6, [recorder, _ScriptedValLoss([5, 4, 3, 1, 2, 2]), stopper, average])
    assert average.averaged == (3, 4)
    _assert_weights(model, _mean(recorder.weights[2:4]))


def test_a_window_longer_than_the_run_averages_every_epoch_run():
    recorder, average = _Recorder(), EpochWeightAverage(10)
    model = _fit(3, [recorder, average])
    assert average.averaged == (1, 2, 3)
    _assert_weights(model, _mean(recorder.weights))


def test_one_epoch_leaves_the_weights_as_they_are():
    recorder, average = _Recorder(), EpochWeightAverage(1)
    model = _fit(3, [recorder, average])
    assert average.averaged == ()
    _assert_weights(model, recorder.weights[-1])


def test_fewer_than_one_epoch_is_refused():
    with pytest.raises(ValueError, match="at least 1, got 0"):
        EpochWeightAverage(0)
