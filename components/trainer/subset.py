"""The part of the training split a run trains on, and its class counts.

* :func:`count_classes` counts the classes of a stream in one pass, for runs
  that train on other splits than the one Transform analysed (the folds of
  cross-validation).
* :func:`stratified_fraction` keeps a seeded, stratified fraction of the
  training examples (the data-size experiment): per class, the examples are
  ordered by a seeded permutation of their sorted ids and the first
  ``round(fraction * n)`` (at least 1) are kept. The same seed gives the same
  subset, and a smaller fraction's subset lies inside a larger one's.
"""

from __future__ import annotations

from typing import Dict, List, Tuple

import numpy as np
import tensorflow as tf

from imagepipe.components.trainer import data


def _ids_and_labels(examples: tf.data.Dataset) -> Tuple[List[bytes], np.ndarray]:
    """One pass over ``examples``: their ids (or positions, when they have none) and labels."""
    def key(index, element):
        if data.EXAMPLE_ID_XF in element:
            return element[data.EXAMPLE_ID_XF], element[data.LABEL_XF]
        return tf.strings.as_string(index), element[data.LABEL_XF]

    ids: List[bytes] = []
    labels: List[np.ndarray] = []
    for batch_ids, batch_labels in examples.enumerate().map(key).batch(4096):
        ids.extend(batch_ids.numpy().tolist())
        labels.append(batch_labels.numpy())
    return ids, (np.concatenate(labels) if labels else np.zeros([0], np.int64))


def count_classes(examples: tf.data.Dataset) -> Dict[int, int]:
    """Counts the examples of each class of ``examples`` (one pass)."""
    _, labels = _ids_and_labels(examples)
    values, counts = np.unique(labels, return_counts=True)
    return {int(v): int(c) for v, c in zip(values, counts)}


def choose(ids: List[bytes], labels: np.ndarray, fraction: float, seed: int) -> List[bytes]:
    """The ids kept by :func:`stratified_fraction`, per class, in a seeded order.

    Raises:
      ValueError: ``fraction`` is not in (0, 1], or the ids are not unique.
    """
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"train_fraction must be in (0, 1], got {fraction}")
    if len(set(ids)) != len(ids):
        raise ValueError("training examples need unique example ids to take a fraction")
    kept: List[bytes] = []
    for class_id in sorted(set(labels.tolist())):
        members = sorted(i for i, label in zip(ids, labels) if label == class_id)
        order = np.random.RandomState(seed + int(class_id)).permutation(len(members))
        count = max(1, int(round(fraction * len(members))))
        kept.extend(members[j] for j in order[:count])
    return kept


def stratified_fraction(examples: tf.data.Dataset, fraction: float, seed: int
                        ) -> Tuple[tf.data.Dataset, Dict[int, int]]:
    """Keeps a seeded, stratified ``fraction`` of ``examples``.

    Args:
      examples: the training elements (dicts with ``label_xf`` and, when
        present, ``example_id_xf``), read in a fixed order.
      fraction: share of each class to keep, in (0, 1].
      seed: seed of the choice.

    Returns:
      (the kept elements, class id -> kept count).
    """
    ids, labels = _ids_and_labels(examples)
    kept = choose(ids, labels, fraction, seed)
    table = tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(tf.constant(kept, tf.string),
                                            tf.ones([len(kept)], tf.int64)), default_value=0)
    label_of = dict(zip(ids, labels.tolist()))
    counts: Dict[int, int] = {}
    for example_id in kept:
        counts[int(label_of[example_id])] = counts.get(int(label_of[example_id]), 0) + 1

    def keep(index, element):
        key = (element[data.EXAMPLE_ID_XF] if data.EXAMPLE_ID_XF in element
               else tf.strings.as_string(index))
        return tf.equal(table.lookup(key), 1)

    kept_examples = examples.enumerate().filter(keep).map(lambda index, element: element)
    return kept_examples, dict(sorted(counts.items()))
