"""A per-class bias on the logits, fitted on the validation split for balanced classes.

A model trained on unbalanced data (or on augmented copies that stand in for
the missing natural images) can be right on the majority class at the expense
of the smaller ones. Post-hoc logit adjustment moves the decision boundaries
without retraining: the exported model classifies ``logits + bias``.

The bias is the maximum a posteriori estimate under the class-balanced
cross-entropy on the validation split (every class weighs the same in the
loss, however many images it has) with a Gaussian prior on each bias (standard
deviation :data:`PRIOR_STDDEV`): a convex problem, solved by Newton's method.
The prior keeps the bias near zero where the validation split is small (a photo
folder's few images); on Fashion-MNIST's 9,450 validation images it still shrinks
the bias of a class the model never misses, which costs that class less on photos
(the width was chosen by measurement: README, "Balancing the classes").

This module needs numpy only: the Trainer feeds it the validation logits.
"""

from __future__ import annotations

from typing import Sequence, Tuple

import numpy as np

from imagepipe.components import reports

PRIOR_STDDEV = 0.25
_MAX_NEWTON_STEPS = 50
_GRADIENT_TOLERANCE = 1e-6


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, numerically stable."""
    return np.exp(_log_softmax(logits))


def class_weights(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Per-example weights ``n / (K * n_class)``: every class weighs the same, the sum is n."""
    counts = np.bincount(labels, minlength=num_classes).astype(np.float64)
    return (len(labels) / (num_classes * counts))[labels]


def _loss(bias: np.ndarray, logits: np.ndarray, labels: np.ndarray, weights: np.ndarray,
          prior_stddev: float) -> float:
    nll = -_log_softmax(logits + bias)[np.arange(len(labels)), labels]
    return float(np.sum(weights * nll) + 0.5 * np.sum(bias ** 2) / prior_stddev ** 2)


def balanced_loss(bias: np.ndarray, logits: np.ndarray, labels: np.ndarray,
                  prior_stddev: float = PRIOR_STDDEV) -> float:
    """The objective: class-balanced cross-entropy of ``logits + bias`` plus the prior's term."""
    return _loss(bias, logits, labels, class_weights(labels, logits.shape[1]), prior_stddev)


def fit(logits: np.ndarray, labels: np.ndarray,
        prior_stddev: float = PRIOR_STDDEV) -> np.ndarray:
    """The bias minimizing :func:`balanced_loss` (Newton's method with step halving).

    Args:
      logits: [n, K] float logits of the fitting split.
      labels: [n] int class ids; every class must occur.
      prior_stddev: standard deviation of the Gaussian prior on each bias.

    Returns:
      [K] float64 bias (it sums to zero: softmax ignores a common shift, the prior does not).
    """
    logits = np.asarray(logits, np.float64)
    num_classes = logits.shape[1]
    weights = class_weights(labels, num_classes)
    onehot = np.eye(num_classes)[labels]
    ridge = np.eye(num_classes) / prior_stddev ** 2
    bias = np.zeros(num_classes)
    loss = _loss(bias, logits, labels, weights, prior_stddev)
    for _ in range(_MAX_NEWTON_STEPS):
        probabilities = softmax(logits + bias)
        gradient = weights @ (probabilities - onehot) + bias / prior_stddev ** 2
        if np.max(np.abs(gradient)) < _GRADIENT_TOLERANCE:
            break
        weighted = probabilities * weights[:, None]
        hessian = np.diag(weighted.sum(axis=0)) - weighted.T @ probabilities + ridge
        step = np.linalg.solve(hessian, gradient)
        scale = 1.0
        while scale > 1e-4:
            candidate = bias - scale * step
            candidate_loss = _loss(candidate, logits, labels, weights, prior_stddev)
            if candidate_loss <= loss:
                bias, loss = candidate, candidate_loss
                break
            scale /= 2
        else:
            break
    return bias


def recall(logits: np.ndarray, labels: np.ndarray, num_classes: int) -> Tuple[float, ...]:
    """Per-class recall of ``argmax(logits)``; NaN for a class with no examples."""
    predicted = np.argmax(logits, axis=1)
    return tuple(float(np.mean(predicted[labels == k] == k)) if np.any(labels == k)
                 else float("nan") for k in range(num_classes))


def fit_and_report(logits: np.ndarray, labels: np.ndarray, class_names: Sequence[str],
                   prior_stddev: float = PRIOR_STDDEV) -> reports.ClassBias:
    """Fits the bias on a split and measures it there.

    A split missing a class gets no bias (zeros) and a note naming the class:
    a balanced loss cannot weigh a class it has no image of.

    Args:
      logits: [n, K] logits of the validation split.
      labels: [n] class ids.
      class_names: the K class names in class id order.
      prior_stddev: standard deviation of the Gaussian prior on each bias.
    """
    logits = np.asarray(logits, np.float64)
    labels = np.asarray(labels, np.int64)
    num_classes = logits.shape[1]
    missing = [class_names[k] for k in range(num_classes) if not np.any(labels == k)]
    if missing:
        bias = np.zeros(num_classes)
        note = f"no bias: the validation split has no image of {', '.join(missing)}"
    else:
        bias, note = fit(logits, labels, prior_stddev), ""

    def by_name(values) -> dict:
        return {name: float(value) for name, value in zip(class_names, values)}

    return reports.ClassBias(
        bias=by_name(bias),
        recall_before=by_name(recall(logits, labels, num_classes)),
        recall_after=by_name(recall(logits + bias, labels, num_classes)),
        accuracy_before=float(np.mean(np.argmax(logits, axis=1) == labels)),
        accuracy_after=float(np.mean(np.argmax(logits + bias, axis=1) == labels)),
        validation_images=int(len(labels)), note=note)
