"""Benchmark: the drift measures between spans on real photos, random and skewed on purpose.

Measures every photo of a folder once (``image_measures.measure`` on the file
and its normalised copy, as SpanDrift does), cuts the photos into spans at
random (where any drift is sampling noise) and into spans skewed on purpose
(a class gone, a class multiplied, darker light, a larger camera), and prints
SpanDrift's measures for each pair: the class's L-infinity distance and the
largest Jensen-Shannon divergence of a measure. Then the class noise of three
classes at a few span sizes, simulated. The figures behind
docs/decisions/0017-drift-between-spans.md; nothing is asserted.

    python bench/drift_bench.py [--folder ../shared/photos/clothing/train] [--seed 30]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
from typing import Dict, List, Optional

import numpy as np

from imagepipe.components import drift, span_statistics
from imagepipe.data import image_measures, images

Row = Dict[str, object]
COLOURS = (image_measures.BRIGHTNESS, image_measures.RED, image_measures.GREEN,
           image_measures.BLUE)


def _row(class_name: str, path: str) -> Optional[Row]:
    with open(path, "rb") as f:
        data = f.read()
    try:
        measures = image_measures.measure(data, images.stored_copy(data))
    except images.BadImage:
        return None
    return {span_statistics.LABEL_FEATURE: class_name, **measures}


def measured(folder: str) -> List[Row]:
    """One row per readable photo of ``folder``'s class sub-folders."""
    paths = [(name, os.path.join(folder, name, file)) for name in sorted(os.listdir(folder))
             if os.path.isdir(os.path.join(folder, name))
             for file in sorted(os.listdir(os.path.join(folder, name)))]
    with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        return [row for row in pool.map(lambda item: _row(*item), paths) if row]


def line(name: str, previous: List[Row], newest: List[Row]) -> str:
    """The pair's sizes, its class distance and its largest measure divergence."""
    report = drift.between_latest_spans(
        {1: span_statistics.statistics(previous, "span-1"),
         2: span_statistics.statistics(newest, "span-2")}, 1.0)
    label = report.measures[0]
    largest = max(report.measures[1:], key=lambda m: m.value)
    return (f"{name:44s} {len(previous):5d} {len(newest):5d}  class L-inf {label.value:.3f}  "
            f"largest divergence {largest.value:.3f} ({largest.feature})")


def _scaled(rows: List[Row], keys, factor: float) -> List[Row]:
    return [{**row, **{key: row[key] * factor for key in keys}} for row in rows]


def real_pairs(rows: List[Row], rng: np.random.Generator) -> None:
    """Random and skewed pairs of spans of the real photos."""
    for trial in range(3):
        order = rng.permutation(len(rows))
        print(line(f"random thirds, trial {trial + 1}", [rows[i] for i in order[0::3]],
                   [rows[i] for i in order[1::3]]))
    for size in (300, 100, 50):
        order = rng.permutation(len(rows))
        print(line(f"random spans of {size}", [rows[i] for i in order[:size]],
                   [rows[i] for i in order[size:2 * size]]))
    order = rng.permutation(len(rows))
    previous, newest = [rows[i] for i in order[0::2]], [rows[i] for i in order[1::2]]
    largest = max({r[span_statistics.LABEL_FEATURE] for r in rows},
                  key=lambda c: sum(r[span_statistics.LABEL_FEATURE] == c for r in rows))
    print(line(f"newest span without {largest}", previous,
               [r for r in newest if r[span_statistics.LABEL_FEATURE] != largest]))
    rarest = min({r[span_statistics.LABEL_FEATURE] for r in rows},
                 key=lambda c: sum(r[span_statistics.LABEL_FEATURE] == c for r in rows))
    print(line(f"{rarest} 4x as many", previous,
               newest + [r for r in newest if r[span_statistics.LABEL_FEATURE] == rarest] * 3))
    for factor in (0.8, 0.9):
        print(line(f"every photo {100 - round(factor * 100)}% darker", previous,
                   _scaled(newest, COLOURS, factor)))
    half = len(newest) // 2
    sizes = (image_measures.WIDTH, image_measures.HEIGHT)
    print(line("half the photos from a camera 3x larger", previous,
               newest[:half] + _scaled(newest[half:], sizes, 3.0)))


def simulated_classes(rng: np.random.Generator, classes: int = 3, trials: int = 8) -> None:
    """The class distance of two random spans of ``classes`` balanced classes, by span size."""
    for size in (60, 120, 300):
        values = []
        for _ in range(trials):
            spans = [[{span_statistics.LABEL_FEATURE: f"c{c}",
                       **{m: 0.5 for m in image_measures.MEASURES}}
                      for c in rng.integers(classes, size=size)] for _ in range(2)]
            report = drift.between_latest_spans(
                {1: span_statistics.statistics(spans[0], "span-1"),
                 2: span_statistics.statistics(spans[1], "span-2")}, 1.0)
            values.append(report.measures[0].value)
        print(f"{classes} classes, random spans of {size:3d}: class L-inf mean "
              f"{np.mean(values):.3f}, largest {np.max(values):.3f} of {trials}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folder", default="../shared/photos/clothing/train")
    parser.add_argument("--seed", type=int, default=30)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    rows = measured(args.folder)
    print(f"{len(rows)} photos measured in {args.folder}\n")
    print(f"{'pair':44s} {'prev':>5s} {'new':>5s}")
    real_pairs(rows, rng)
    print()
    simulated_classes(rng)


if __name__ == "__main__":
    main()
