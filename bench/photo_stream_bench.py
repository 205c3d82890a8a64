"""Benchmark: what photo augmentation costs the training stream, image by image and batched.

Streams the same Fashion-MNIST training images three ways in one run, one after the other:

* ``no photos``: ``--photo-augmentation 0``, the baseline;
* ``one by one``: a quarter of the images rendered (``photo_render.render_photo``)
  and normalized (``normalize.fashion_mnist_like``) element by element, as the
  stream did before;
* ``batched``: the Trainer's stream (``balance.photo_like``): the chosen images
  of every ``RENDER_GROUP`` elements rendered and normalized as one batch;
* ``staged``: the same, staged by garment kind as the Trainer stages
  Fashion-MNIST (``photo_scene.garment_kinds``: pairs of shoes, hangers, worn).

Prints elements/s, the photo path's cost per photo beside the baseline, and
how far the batched photos are from the one-by-one normalization of the same
rendered photos (the same function on a batch of one: 0).

    python bench/photo_stream_bench.py [--data-dir DIR] [--images 20000] [--fraction 0.25]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from imagepipe.components import features, normalize, photo_render, photo_scene  # noqa: E402
from imagepipe.components.trainer import balance, data  # noqa: E402
from imagepipe.data import fashion_mnist  # noqa: E402


def _examples(data_dir: str, count: int) -> tuple:
    images = fashion_mnist.read_part_images(data_dir, "train")[:count]
    labels = fashion_mnist.read_part_labels(data_dir, "train")[:count]
    return tf.data.Dataset.from_tensor_slices({
        data.IMAGE_XF: images[..., None].astype(np.float32) / 255.0,
        data.LABEL_XF: labels.astype(np.int64),
    }), len(labels)


def _raw_label_kinds() -> tuple:
    """The garment kind of each raw Fashion-MNIST label, through its super-class (bags: none)."""
    kinds = photo_scene.garment_kinds(features.SUPER_CLASS_NAMES)
    return tuple(photo_scene.NO_KIND if super_class == features.UNMAPPED_CLASS else kinds[super_class]
                 for super_class in features.class_map_table())


def _one_by_one(stream: tf.data.Dataset, fraction: float, seed: int) -> tf.data.Dataset:
    """The stream as it was: each chosen element rendered and normalized on its own."""
    def maybe_render(index, element):
        chosen = tf.random.stateless_uniform([], [seed, index]) < fraction
        image = element[data.IMAGE_XF]
        image = tf.cond(chosen, lambda: normalize.fashion_mnist_like(
            photo_render.render_photo(image, tf.stack([seed, index])), 28), lambda: image)
        return {**element, data.IMAGE_XF: image}

    return stream.enumerate().map(maybe_render, num_parallel_calls=tf.data.AUTOTUNE)


def _rate(stream: tf.data.Dataset, batch_size: int) -> float:
    batches = stream.batch(batch_size).prefetch(2)
    for _ in batches.take(2):
        pass
    count, start = 0, time.perf_counter()
    for batch in batches:
        count += int(batch[data.LABEL_XF].shape[0])
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", default=fashion_mnist.default_data_dir())
    parser.add_argument("--images", type=int, default=20000)
    parser.add_argument("--fraction", type=float, default=0.25)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    examples, count = _examples(args.data_dir, args.images)
    print(f"{count} training images, photo fraction {args.fraction}, "
          f"render group {balance.RENDER_GROUP}")
    rates = {
        "no photos": _rate(examples, args.batch_size),
        "one by one": _rate(_one_by_one(examples, args.fraction, 7), args.batch_size),
        "batched": _rate(balance.photo_like(examples, args.fraction, 7, count), args.batch_size),
        "staged": _rate(balance.photo_like(examples, args.fraction, 7, count,
                                           garment_kinds=_raw_label_kinds()), args.batch_size),
    }
    base = rates["no photos"]
    for name, rate in rates.items():
        extra = (1 / rate - 1 / base) / args.fraction * 1e3 if name != "no photos" else 0.0
        print(f"  {name:<11} {rate:9.0f} elements/s   {extra:6.3f} ms per photo beyond the baseline")
    print(f"  batched vs one by one: {rates['batched'] / rates['one by one']:.2f}x the elements/s")
    rendered = photo_render.render_photos(next(iter(examples.batch(64)))[data.IMAGE_XF], [1, 2])
    batched = normalize.fashion_mnist_like_batch(rendered).numpy()
    single = np.stack([normalize.fashion_mnist_like(photo).numpy() for photo in rendered])
    print(f"  largest pixel difference, batched vs one by one on 64 photos: "
          f"{np.abs(batched - single).max():.2g}")


if __name__ == "__main__":
    main()
