"""Benchmark: are EfficientNet-Lite's converted ImageNet weights right? Top-5 on real photos.

Runs the converted 1000-class ImageNet classifier on every photo of the given
folders (centre crop at the variant's native side: Lite0 224 px, Lite2 260 px) and prints, per sub-folder and in all, the share
of photos with a garment, footwear or headwear class among the five best
ImageNet classes, and the most frequent top-1 classes. A correct conversion
names garments for almost every clothing photo; a scrambled one (weights read
without their strides, say) names one class for everything. Beside it, the same
figure for the weights read as if contiguous (the classic conversion bug), so
the check shows it can fail.

    python bench/imagenet_top5_bench.py ../shared/photos/clothing/train \
        ../shared/photos/clothing/validation [--model efficientnet_lite2] [--weights FILE] \
        [--limit N]
"""

from __future__ import annotations

import argparse
import collections
import glob
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _photos(folders, limit):
    paths = []
    for folder in folders:
        found = sorted(glob.glob(os.path.join(folder, "*", "*")))
        paths.extend(found[:: max(1, len(found) // limit)] if limit else found)
    return paths


def _contiguous_state(path):
    """The state dict read as if every tensor were contiguous (strides ignored): the bug."""
    import numpy as np  # pylint: disable=g-import-not-at-top
    from imagepipe.components.models import torch_state_dict  # pylint: disable=g-import-not-at-top

    def ignoring_strides(_name, ref, storages, _path):
        size = int(np.prod(ref.size)) if ref.size else 1
        return storages[ref.storage_key][ref.offset:ref.offset + size].reshape(ref.size).copy()

    kept = torch_state_dict._materialize  # pylint: disable=protected-access
    torch_state_dict._materialize = ignoring_strides  # pylint: disable=protected-access
    try:
        return torch_state_dict.load(path)
    finally:
        torch_state_dict._materialize = kept  # pylint: disable=protected-access


def _report(name, results, seconds):
    by_folder = collections.defaultdict(list)
    for result in results:
        by_folder[os.path.basename(os.path.dirname(result.path))].append(result)
    hits = sum(r.garment_in_top5 for r in results)
    print(f"\n{name}: garment class in the top 5 for {hits} of {len(results)} photos "
          f"({100.0 * hits / max(1, len(results)):.1f}%), {len(results) / seconds:.1f} photos/s")
    for folder, rows in sorted(by_folder.items()):
        top1 = collections.Counter(r.top5[0] for r in rows).most_common(3)
        share = 100.0 * sum(r.garment_in_top5 for r in rows) / len(rows)
        print(f"  {folder:<12} {share:5.1f}% of {len(rows):4d}   top-1: "
              + ", ".join(f"{label} {count}" for label, count in top1))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", help="photo folders with class sub-folders")
    parser.add_argument("--weights", default="imagenet", help="imagenet or a state dict file")
    parser.add_argument("--limit", type=int, default=0, help="about N photos per folder")
    parser.add_argument("--model", default="efficientnet_lite0",
                        choices=("efficientnet_lite0", "efficientnet_lite2"),
                        help="the EfficientNet-Lite variant, run at its native input side")
    args = parser.parse_args(argv)
    from imagepipe.components.models import efficientnet, efficientnet_lite, efficientnet_weights, imagenet_check  # pylint: disable=g-import-not-at-top
    variant = efficientnet_lite.VARIANTS[args.model]
    path = efficientnet.weights_file(args.weights, variant)
    paths = _photos(args.folders, args.limit)
    size = variant.native_size

    def classifier():
        return imagenet_check.classifier(path, size, variant)

    def top5(model):
        return imagenet_check.top5(model, paths, size=size)

    start = time.perf_counter()
    model = classifier()
    _report(f"{variant.name}: converted weights (strides kept)", top5(model),
            time.perf_counter() - start)
    scrambled = _contiguous_state(path)
    efficientnet_weights.read_state = lambda _: scrambled  # the bug, for comparison only
    start = time.perf_counter()
    _report("same file read as contiguous (strides ignored)",
            top5(classifier()),
            time.perf_counter() - start)
    return 0


if __name__ == "__main__":
    sys.exit(main())
