"""Seeded, stratified fractions of the training split, and class counts of a stream."""

import numpy as np
import pytest
import tensorflow as tf

from imagepipe.components.trainer import data, subset


def _examples(labels):
    ids = [f"id{i:03d}".encode() for i in range(len(labels))]
    return tf.data.Dataset.from_tensor_slices({
        data.IMAGE_XF: tf.zeros([len(labels), 2, 2, 1]),
        data.LABEL_XF: tf.constant(labels, tf.int64),
        data.EXAMPLE_ID_XF: tf.constant(ids)})


LABELS = [0] * 50 + [1] * 10 + [2] * 30


def test_fraction_is_stratified_seeded_and_nested():
    ids = [f"id{i:03d}".encode() for i in range(len(LABELS))]
    labels = np.array(LABELS)
    half = subset.choose(ids, labels, 0.5, seed=1)
    quarter = subset.choose(ids, labels, 0.25, seed=1)
    assert set(quarter) < set(half)
    assert subset.choose(ids, labels, 0.5, seed=1) == half
    assert subset.choose(ids, labels, 0.5, seed=2) != half
    kept = {i for i in half}
    per_class = [sum(1 for i, label in zip(ids, LABELS) if i in kept and label == c)
                 for c in range(3)]
    assert per_class == [25, 5, 15]


def test_stratified_fraction_filters_the_stream_and_counts_it():
    stream, counts = subset.stratified_fraction(_examples(LABELS), 0.2, seed=7)
    assert counts == {0: 10, 1: 2, 2: 6}
    labels = [int(e[data.LABEL_XF]) for e in stream]
    assert {c: labels.count(c) for c in range(3)} == counts


def test_count_classes_and_bad_fractions():
    assert subset.count_classes(_examples(LABELS)) == {0: 50, 1: 10, 2: 30}
    with pytest.raises(ValueError, match=r"train_fraction must be in \(0, 1\]"):
        subset.choose([b"a"], np.array([0]), 0.0, seed=1)
    with pytest.raises(ValueError, match="unique example ids"):
        subset.choose([b"a", b"a"], np.array([0, 0]), 0.5, seed=1)
