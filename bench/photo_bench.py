"""Benchmark: Fashion-MNIST models on photo-like pictures and on the Fashion-MNIST test split.

Renders the test split (the pipeline's own seeded 70/15/15 split, bags left
out) as photo-like JPEGs into labelled folders, one per renderer family:

- ``standard``: ``imagepipe.testing.photo_render`` (shop-like photos: light or
  dark, textured backgrounds, an object somewhere in the frame);
- ``hard``: ``imagepipe.testing.hard_photos``, the failure modes seen on real
  photos (a garment cut off by the frame, light on light, dark on dark, glare on
  a wooden floor, bed-sheet folds, pairs of shoes from above, a garment on a
  hanger, a garment worn), in turn.

Neither is the training-time rendering (``components/photo_render.py``). Each given
model is evaluated, side by side, through its own ``serving_default``
signature: balanced accuracy, accuracy, per-class recall and the near-empty
share (normalized images under 5% lit) on each family, accuracy per hard mode,
and accuracy on the original 28x28 test images.

    python bench/photo_bench.py --model before=DIR --model after=DIR [--limit 3000]

DIR is a SavedModel folder or a serving model folder (latest version used).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from imagepipe.testing import hard_photos, photo_render  # noqa: E402  pylint: disable=g-import-not-at-top


def _test_split(data_dir: str, limit: int):
    import numpy as np  # pylint: disable=g-import-not-at-top
    from imagepipe.components import features  # pylint: disable=g-import-not-at-top
    from imagepipe.data import fashion_mnist, splits  # pylint: disable=g-import-not-at-top
    data = fashion_mnist.read_idx_directory(data_dir)
    kept = np.isin(data.labels, list(features.FASHION_MNIST_CLASS_MAP))
    assignment = splits.split_assignment(int(kept.sum()), [14, 3, 3], 1001)
    test = np.flatnonzero(kept)[assignment == 2][:limit]
    labels = np.asarray(features.class_map_table())[data.labels[test]]
    ids = [data.ids[i].replace("/", "-") for i in test]
    return data.images[test], labels, ids


def _fashion_mnist_accuracy(predict, images, labels) -> float:
    from imagepipe.components import features  # pylint: disable=g-import-not-at-top
    from imagepipe.data import png  # pylint: disable=g-import-not-at-top
    correct = 0
    for start in range(0, len(images), 256):
        names = predict([png.encode_gray(im) for im in images[start:start + 256]])
        correct += sum(features.SUPER_CLASS_NAMES[int(label)] == name
                       for label, name in zip(labels[start:start + 256], names))
    return correct / len(images)


def main() -> int:
    """Renders the benchmark, evaluates every model, prints the comparison."""
    from imagepipe.components import features  # pylint: disable=g-import-not-at-top
    from imagepipe.data import fashion_mnist
    from imagepipe.pipeline import photo_eval  # pylint: disable=g-import-not-at-top
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", required=True, metavar="LABEL=DIR")
    parser.add_argument("--data-dir", default=fashion_mnist.default_data_dir())
    parser.add_argument("--limit", type=int, default=3000, help="test images to render")
    parser.add_argument("--photos", default=None,
                        help="benchmark folder, one sub-folder per renderer (default: a temp dir)")
    parser.add_argument("--renderer", action="append", choices=sorted(RENDERERS),
                        help="renderer families to run (repeat; default: standard and hard)")
    args = parser.parse_args()
    args.renderer = args.renderer or ["standard", "hard"]
    images, labels, ids = _test_split(args.data_dir, args.limit)
    root = args.photos or tempfile.mkdtemp(prefix="imagepipe-photo-bench-")
    folders = {}
    for family in args.renderer:
        folders[family] = os.path.join(root, family)
        start = time.perf_counter()
        counts = RENDERERS[family](folders[family], images, labels, features.SUPER_CLASS_NAMES,
                                   ids)
        print(f"{family}: rendered {sum(counts.values())} photos {counts} into "
              f"{folders[family]} in {time.perf_counter() - start:.0f} s")
    rows = []
    for spec in args.model:
        label, model_dir = spec.split("=", 1)
        model = photo_eval.local_model(model_dir)
        evaluations = {family: photo_eval.evaluate(folder, model)
                       for family, folder in folders.items()}
        rows.append((label, evaluations, _fashion_mnist_accuracy(
            lambda batch: [p.class_name for p in model.predict(batch)], images, labels)))
    _print_table(rows)
    if "hard" in folders:
        _print_modes(rows)
    return 0


RENDERERS = {"standard": photo_render.write_benchmark, "hard": hard_photos.write_benchmark}


def _print_table(rows) -> None:
    from imagepipe.components import features  # pylint: disable=g-import-not-at-top
    print(f"\n{'model':10s} {'photos':9s} {'balanced':>9s} {'accuracy':>9s} "
          + " ".join(f"{'recall ' + n:>13s}" for n in features.SUPER_CLASS_NAMES)
          + f" {'near-empty':>11s} {'FMNIST test acc':>16s}")
    for label, evaluations, fmnist in rows:
        for family, evaluation in evaluations.items():
            recall = evaluation.recall
            print(f"{label:10s} {family:9s} {100 * evaluation.balanced_accuracy:8.2f}% "
                  f"{100 * evaluation.accuracy:8.2f}% "
                  + " ".join(f"{100 * recall.get(n, 0):12.2f}%"
                             for n in features.SUPER_CLASS_NAMES)
                  + f" {100 * evaluation.near_empty_share:10.1f}% {100 * fmnist:15.2f}%")


def _mode_of(path: str) -> str:
    return os.path.splitext(os.path.basename(path))[0].rsplit("-", 1)[-1]


def _print_modes(rows) -> None:
    print(f"\n{'model':10s} " + " ".join(f"{mode:>15s}" for mode in hard_photos.MODES)
          + "   (hard photos: accuracy / near-empty share per mode)")
    for label, evaluations, _ in rows:
        cells = []
        for mode in hard_photos.MODES:
            photos = [p for p in evaluations["hard"].photos if _mode_of(p.path) == mode]
            right = sum(p.predicted == p.true_class for p in photos) / max(len(photos), 1)
            empty = sum(bool(p.near_empty) for p in photos) / max(len(photos), 1)
            cells.append(f"{100 * right:6.1f}% / {100 * empty:4.1f}%")
        print(f"{label:10s} " + " ".join(f"{cell:>15s}" for cell in cells))

if __name__ == "__main__":
    sys.exit(main())
