"""Benchmark: what a pretrained model costs per image on this machine, at each input size.

For each input size and model, side by side in one run:

- ``frozen features``: the frozen base's forward pass (what a frozen base
  without augmentation pays once per photo, not per epoch);
- ``head epoch``: one epoch of the head on those features;
- ``fine-tune``: a training step with the top ``--fine-tune-blocks`` blocks
  unfrozen (what every fine-tuning epoch, or an augmented frozen epoch's
  forward pass plus the head, costs per image);
- ``from scratch``: a training step of the whole network without weights
  (the grid's "no weights" cells);

as images/s and as seconds per epoch of a ``--photos``-image folder, and the
process's peak RSS after each size. Pixels are random: the cost of a
convolution does not depend on them.

    python bench/pretrained_cost_bench.py [--sizes 224 160 128 96] [--photos 2061]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _rate(step, images: int, repeats: int) -> float:
    step()  # trace and warm up
    start = time.perf_counter()
    for _ in range(repeats):
        step()
    return images * repeats / (time.perf_counter() - start)


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _measure(model_name: str, size: int, batch: int, repeats: int, blocks: int):
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    from imagepipe.components import models  # pylint: disable=g-import-not-at-top
    from imagepipe.components.trainer import frozen_features, task  # pylint: disable=g-import-not-at-top
    images = tf.random.stateless_uniform([batch, size, size, 3], seed=[1, size])
    labels = tf.zeros([batch], tf.int64)

    def build(weights: str, **options):
        spec = models.ModelSpec((size, size, 3), 3, "image_xf",
                                options=models.ModelOptions(weights=weights, **options))
        return task.compile_model(models.build(model_name, spec), 1e-3)

    pretrained = build("imagenet", fine_tune_blocks=blocks)
    cut = frozen_features.split(pretrained, augmented=False)
    features = cut.extractor.predict(images, verbose=0)
    task.compile_model(cut.head, 1e-3)
    rates = {"frozen features": _rate(lambda: cut.extractor(images, training=False), batch,
                                      repeats),
             "head epoch": _rate(lambda: cut.head.train_on_batch(features, labels), batch,
                                 repeats * 4)}
    models.fine_tune(model_name, pretrained,
                     models.ModelOptions(weights="imagenet", fine_tune_blocks=blocks))
    task.compile_model(pretrained, 1e-4)
    rates["fine-tune"] = _rate(lambda: pretrained.train_on_batch(images, labels), batch, repeats)
    scratch = build("none")
    rates["from scratch"] = _rate(lambda: scratch.train_on_batch(images, labels), batch, repeats)
    return rates


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="efficientnet_lite0")
    parser.add_argument("--sizes", type=int, nargs="+", default=[224, 160, 128, 96])
    parser.add_argument("--photos", type=int, default=2061,
                        help="images per epoch for the seconds column (default: the training "
                             "split of ../shared/photos/clothing/train, 3 classes)")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=4)
    parser.add_argument("--fine-tune-blocks", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"{args.model}, batch {args.batch}, {args.repeats} timed batches per figure, "
          f"epoch = {args.photos} images, {os.cpu_count()} cores")
    print(f"{'size':>5} {'what':<16} {'images/s':>9} {'s/epoch':>8} {'peak RSS MiB':>13}")
    for size in args.sizes:
        rates = _measure(args.model, size, args.batch, args.repeats, args.fine_tune_blocks)
        for what, rate in rates.items():
            print(f"{size:>5} {what:<16} {rate:>9.1f} {args.photos / rate:>8.1f} "
                  f"{_peak_rss_mib():>13.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
