"""Benchmark: Fashion-MNIST models on photo-like pictures and on the Fashion-MNIST test split.

Renders the test split (the pipeline's own seeded 70/15/15 split, bags left
out) as photo-like JPEGs with ``imagepipe.testing.photo_render`` into a labelled
folder, then evaluates each given model, side by side, through its own
``serving_default`` signature: balanced accuracy, accuracy and per-class
recall on the photos, and accuracy on the original 28x28 test images.

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


def _test_split(data_dir: str, limit: int):
    import numpy as np  # pylint: disable=g-import-not-at-top
    from imagepipe.components import features, ingest  # pylint: disable=g-import-not-at-top
    from imagepipe.data import fashion_mnist# pylint: disable=g-import-not-at-top
    data = fashion_mnist.read_idx_directory(data_dir)
    kept = np.isin(data.labels, list(features.FASHION_MNIST_CLASS_MAP))
    assignment = ingest.split_assignment(int(kept.sum()), [14, 3, 3], 1001)
    test = np.flatnonzero(kept)[assignment == 2][:limit]
    labels = np.asarray(features.class_map_table())[data.labels[test]]
    ids = [data.ids[i].replace("/", "-") for i in test]
    return data.images[test], labels, ids


def _fashion_mnist_accuracy(predict, images, labels) -> float:
    from imagepipe.components import features, ingest  # pylint: disable=g-import-not-at-top
    correct = 0
    for start in range(0, len(images), 256):
        names = predict([ingest.encode_png(im) for im in images[start:start + 256]])
        correct += sum(features.SUPER_CLASS_NAMES[int(label)] == name
                       for label, name in zip(labels[start:start + 256], names))
    return correct / len(images)


def main() -> int:
    """Renders the benchmark, evaluates every model, prints the comparison."""
    from imagepipe.components import features  # pylint: disable=g-import-not-at-top
    from imagepipe.data import fashion_mnist
    from imagepipe.testing import photo_render  # pylint: disable=g-import-not-at-top
    from imagepipe.pipeline import photo_eval  # pylint: disable=g-import-not-at-top
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", required=True, metavar="LABEL=DIR")
    parser.add_argument("--data-dir", default=fashion_mnist.default_data_dir())
    parser.add_argument("--limit", type=int, default=3000, help="test images to render")
    parser.add_argument("--photos", default=None, help="benchmark folder (default: a temp dir)")
    args = parser.parse_args()
    images, labels, ids = _test_split(args.data_dir, args.limit)
    photos = args.photos or tempfile.mkdtemp(prefix="imagepipe-photo-bench-")
    start = time.perf_counter()
    counts = photo_render.write_benchmark(photos, images, labels, features.SUPER_CLASS_NAMES, ids)
    print(f"rendered {sum(counts.values())} photo-like pictures {counts} into {photos} "
          f"in {time.perf_counter() - start:.0f} s")
    rows = []
    for spec in args.model:
        label, model_dir = spec.split("=", 1)
        model = photo_eval.local_model(model_dir)
        evaluation = photo_eval.evaluate(photos, model)
        rows.append((label, evaluation, _fashion_mnist_accuracy(
            lambda batch: [p.class_name for p in model.predict(batch)], images, labels)))
    print(f"\n{'model':10s} {'photos: balanced':>17s} {'accuracy':>9s} "
          + " ".join(f"{'recall ' + n:>13s}" for n in features.SUPER_CLASS_NAMES)
          + f" {'FMNIST test acc':>16s}")
    for label, evaluation, fmnist in rows:
        recall = evaluation.recall
        print(f"{label:10s} {100 * evaluation.balanced_accuracy:16.2f}% "
              f"{100 * evaluation.accuracy:8.2f}% "
              + " ".join(f"{100 * recall.get(n, 0):12.2f}%" for n in features.SUPER_CLASS_NAMES)
              + f" {100 * fmnist:15.2f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
