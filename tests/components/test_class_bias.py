"""The class bias fitted on the validation split (components/trainer/class_bias.py)."""

from __future__ import annotations

import numpy as np
import pytest

from imagepipe.components.trainer import class_bias

NAMES = ("upper", "lower", "shoes")


def _logits(counts, shift, seed=0, separation=3.0):
    """Logits of a 3-class problem whose class 1 is under-predicted by ``shift``.

    Each example's true class gets ``separation`` plus noise; class 1's logit is
    lowered by ``shift`` for every example, as a model biased to the others would.
    """
    rng = np.random.default_rng(seed)
    labels = np.concatenate([np.full(n, k) for k, n in enumerate(counts)])
    logits = rng.normal(0.0, 1.5, size=(len(labels), 3))
    logits[np.arange(len(labels)), labels] += separation
    logits[:, 1] -= shift
    return logits, labels


def test_the_bias_undoes_a_shift_against_a_class_and_raises_its_recall():
    logits, labels = _logits([3000, 600, 1800], shift=2.0)
    fitted = class_bias.fit_and_report(logits, labels, NAMES, prior_stddev=4.0)
    bias = np.asarray([fitted.bias[name] for name in NAMES])
    assert bias[1] - bias[[0, 2]].mean() == pytest.approx(2.0, abs=0.3)
    assert fitted.recall_after["lower"] > fitted.recall_before["lower"] + 0.1
    assert bias.sum() == pytest.approx(0.0, abs=1e-6)
    assert fitted.validation_images == 5400 and fitted.note == ""
    # On fresh data from the same model the bias helps the same way.
    test_logits, test_labels = _logits([3000, 600, 1800], shift=2.0, seed=1)
    before = class_bias.recall(test_logits, test_labels, 3)
    after = class_bias.recall(test_logits + bias, test_labels, 3)
    assert np.mean(after) > np.mean(before) + 0.03


def test_an_unbiased_model_keeps_a_bias_near_zero():
    logits, labels = _logits([2000, 2000, 2000], shift=0.0)
    fitted = class_bias.fit_and_report(logits, labels, NAMES)
    assert max(abs(value) for value in fitted.bias.values()) < 0.1
    assert fitted.accuracy_after == pytest.approx(fitted.accuracy_before, abs=0.005)


def test_the_fitted_bias_minimizes_the_balanced_loss():
    logits, labels = _logits([900, 100, 400], shift=1.0)
    bias = class_bias.fit(logits, labels)
    best = class_bias.balanced_loss(bias, logits, labels)
    rng = np.random.default_rng(3)
    for _ in range(20):
        assert best <= class_bias.balanced_loss(bias + rng.normal(0, 0.1, 3), logits, labels)


def test_the_prior_keeps_a_small_split_s_bias_small():
    many_logits, many_labels = _logits([3000, 600, 1800], shift=2.0)
    few_logits, few_labels = _logits([10, 2, 6], shift=2.0)
    many = np.ptp(class_bias.fit(many_logits, many_labels))
    few = np.ptp(class_bias.fit(few_logits, few_labels))
    loose = np.ptp(class_bias.fit(few_logits, few_labels, prior_stddev=100.0))
    assert few < many and few < loose


def test_a_split_without_some_class_gets_no_bias_and_says_why():
    logits, labels = _logits([50, 0, 40], shift=1.0)
    fitted = class_bias.fit_and_report(logits, labels, NAMES)
    assert fitted.bias == {"upper": 0.0, "lower": 0.0, "shoes": 0.0}
    assert fitted.note == "no bias: the validation split has no image of lower"
    assert np.isnan(fitted.recall_before["lower"])
    assert "(no bias: the validation split has no image of lower)" in fitted.summary_line()
