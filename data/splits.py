"""Split sizes and assignment: one rounding for every data source.

:func:`split_counts` cuts a number of items in the proportions of the split
plan (largest remainders, at least one item per split); Fashion-MNIST assigns
its examples with :func:`split_assignment`, a photo folder each class's photos
(``photo_folder.assign_splits``, stratified), both in those sizes.
"""

from __future__ import annotations

import math
from typing import List, Sequence

import numpy as np


def split_counts(total: int, ratios: Sequence[int]) -> List[int]:
    """Cuts ``total`` items in the proportions ``ratios``, at least one per split.

    Largest remainders decide the rounding; ties go to the earlier split.

    Raises:
      ValueError: fewer items than splits.
    """
    if total < len(ratios):
        raise ValueError(f"{total} items cannot fill {len(ratios)} splits")
    weight = float(sum(ratios))
    quotas = [total * r / weight for r in ratios]
    counts = [max(1, math.floor(q)) for q in quotas]
    while sum(counts) > total:  # the minimum of one pushed the total over
        index = max((i for i, c in enumerate(counts) if c > 1),
                    key=lambda i: (counts[i] - quotas[i], -i))
        counts[index] -= 1
    while sum(counts) < total:
        index = max(range(len(counts)), key=lambda i: (quotas[i] - counts[i], -i))
        counts[index] += 1
    return counts


def split_assignment(num_examples: int, ratios: Sequence[int], seed: int) -> np.ndarray:
    """Assigns each example to a split, in :func:`split_counts`' sizes, by a seeded permutation.

    Args:
      num_examples: how many examples to assign.
      ratios: relative size of each split, e.g. (14, 3, 3) for 70/15/15.
      seed: seed of the permutation.

    Returns:
      int array [num_examples]: the split index of each example.

    Raises:
      ValueError: fewer examples than splits.
    """
    bounds = np.cumsum(split_counts(num_examples, ratios))
    order = np.random.RandomState(seed).permutation(num_examples)
    assignment = np.empty(num_examples, np.int64)
    start = 0
    for split_index, end in enumerate(bounds):
        assignment[order[start:end]] = split_index
        start = end
    return assignment
