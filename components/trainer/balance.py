"""Class balancing of the training stream, and its report.

Modes (``TrainingSettings.balance``):

* ``oversample`` (default): every epoch sees each class as often as the
  largest one. A class keeps all its natural images once per epoch and is
  topped up with augmented copies of its own images (see
  :mod:`imagepipe.components.augment`), drawn fresh each epoch from seeded,
  stateless randomness: the same config gives the same stream.
* ``class_weight``: the natural stream, with loss weights
  ``total / (num_classes * count)`` from the measured counts.
* ``none``: the natural stream.

In every mode, ``photo_augmentation`` then renders an exact share of each
epoch's images as photos and normalizes them back (:func:`photo_like`), and
:class:`StreamCounters` count what the stream delivered.

The counts come from the Transform output (an analyzer over the training
split), not from a second pass over the data. Evaluation streams are never
touched.
"""

from __future__ import annotations

import os
from typing import Dict, Mapping, Optional, Sequence

import tensorflow as tf
import tensorflow_transform as tft

from imagepipe.components import augment, features, normalize, reports, settings
from imagepipe.components.trainer import data
from imagepipe.components.trainer.data import plain

OVERSAMPLE = settings.BALANCE_OVERSAMPLE
CLASS_WEIGHT = settings.BALANCE_CLASS_WEIGHT
NONE = settings.BALANCE_NONE
MODES = settings.BALANCE_MODES
IS_COPY = "is_copy"
IS_PHOTO = "is_photo"
REPORT_PNG = "balance_report.png"


def check_mode(mode: str) -> str:
    """Returns ``mode`` when known; raises ValueError naming the known modes."""
    if mode not in MODES:
        raise ValueError(f"unknown balance mode {mode!r}; known: {', '.join(MODES)}")
    return mode


def read_class_counts(tf_transform_output: tft.TFTransformOutput) -> Dict[int, int]:
    """Reads the per-class counts that Transform measured on the training split."""
    path = tf_transform_output.vocabulary_file_by_name(features.CLASS_DISTRIBUTION_VOCAB)
    counts: Dict[int, int] = {}
    with tf.io.gfile.GFile(path) as f:
        for line in f:
            if line.strip():
                count, class_id = line.split()
                counts[int(class_id)] = int(count)
    return dict(sorted(counts.items()))


def class_weights(counts: Mapping[int, int]) -> Dict[int, float]:
    """Loss weights that make every class weigh as much in total: N / (K * n_c)."""
    total = sum(counts.values())
    return {c: total / (len(counts) * n) for c, n in counts.items()}


def _with_copy_flag(element, is_copy: bool):
    return {**element, IS_COPY: tf.constant(is_copy)}


def _augmented_copies(own: tf.data.Dataset, count: int, seed: int,
                      config: augment.AugmentConfig) -> tf.data.Dataset:
    """``count`` augmented copies of random images of ``own``, fresh each epoch."""
    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
    picks = own.repeat().shuffle(4096, seed=seed + 1, reshuffle_each_iteration=True).take(count)

    def copy(element, pair_seed):
        image = augment.augment_image(element[data.IMAGE_XF], pair_seed, config)
        return _with_copy_flag({**element, data.IMAGE_XF: image}, True)

    return tf.data.Dataset.zip((picks, seeds)).map(
        plain(copy), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


def oversampled_stream(examples: tf.data.Dataset, counts: Mapping[int, int], seed: int,
                       config: augment.AugmentConfig = augment.AugmentConfig()
                       ) -> tf.data.Dataset:
    """One epoch of balanced training elements, unbatched (iterate again: a fresh epoch).

    Args:
      examples: natural training elements (dicts with ``label_xf``).
      counts: class id -> natural count, as measured by Transform.
      seed: seed of every random choice.
      config: augmentation ranges of the copies.

    Returns:
      ``len(counts) * max(counts)`` elements per epoch, exactly ``max(counts)``
      per class, classes interleaved at random; elements carry ``is_copy``.
    """
    target = max(counts.values())
    examples = examples.cache()
    streams = []
    for index, (class_id, natural_count) in enumerate(sorted(counts.items())):
        own = examples.filter(plain(lambda e, c=class_id: tf.equal(e[data.LABEL_XF], c))).cache()
        stream = own.map(plain(lambda e: _with_copy_flag(e, False)))
        if target > natural_count:
            stream = stream.concatenate(
                _augmented_copies(own, target - natural_count, seed + 1000 * (index + 1), config))
        streams.append(stream.shuffle(target, seed=seed + index, reshuffle_each_iteration=True))
    num_classes = len(streams)
    choices = (tf.data.Dataset.range(num_classes * target)
               .map(plain(lambda i: i % num_classes))
               .shuffle(num_classes * target, seed=seed, reshuffle_each_iteration=True))
    return tf.data.Dataset.choose_from_datasets(streams, choices, stop_on_empty_dataset=True)


class StreamCounters:
    """Counts what the training stream delivers, as it runs: images, copies, photos, batches.

    The counts are variables the stream itself increments, batch by batch, so
    they say what training saw, not what the settings asked for.
    :meth:`snapshot` reads them; the Trainer takes one at each epoch's start
    and end.
    """

    NAMES = ("images", "augmented_copies", "photos_rendered", "batches")

    def __init__(self):
        self._variables = {name: tf.Variable(0, dtype=tf.int64, trainable=False, name=name)
                           for name in self.NAMES}

    def count_batch(self, batch):
        """Counts one batch of elements (flags ``is_copy``/``is_photo`` when present)."""
        def flagged(key):
            return (tf.reduce_sum(tf.cast(batch[key], tf.int64)) if key in batch
                    else tf.constant(0, tf.int64))

        self._variables["images"].assign_add(tf.cast(tf.shape(batch[data.LABEL_XF])[0], tf.int64))
        self._variables["augmented_copies"].assign_add(flagged(IS_COPY))
        self._variables["photos_rendered"].assign_add(flagged(IS_PHOTO))
        self._variables["batches"].assign_add(1)
        return batch

    def snapshot(self) -> Dict[str, int]:
        return {name: int(variable.numpy()) for name, variable in self._variables.items()}


def photo_like(stream: tf.data.Dataset, fraction: float, seed: int,
               epoch_size: int) -> tf.data.Dataset:
    """Renders ``fraction`` of the images as photos and normalizes them back, fresh each epoch.

    Exactly ``round(fraction * epoch_size)`` images of each epoch are chosen,
    at random and anew every epoch. The model then meets what
    :func:`normalize.fashion_mnist_like` makes of real photos (off-centre,
    coloured, light backgrounds, blur, noise, JPEG). Elements carry ``is_photo``
    (with ``fraction`` 0 the stream is returned as it is).

    Args:
      stream: one epoch of training elements (dicts with ``image_xf``).
      fraction: share of the images rendered, in [0, 1].
      seed: seed of the choice and of the rendering.
      epoch_size: the number of elements in one epoch of ``stream``.
    """
    if fraction <= 0.0 or epoch_size <= 0:
        return stream
    chosen_count = int(round(fraction * epoch_size))
    ranks = (tf.data.Dataset.range(epoch_size)
             .shuffle(epoch_size, seed=seed, reshuffle_each_iteration=True).repeat())
    seeds = tf.data.Dataset.random(seed=seed + 1, rerandomize_each_iteration=True).batch(2)

    def maybe_render(element, rank, pair_seed):
        image = element[data.IMAGE_XF]
        chosen = rank < chosen_count
        image = tf.cond(chosen, lambda: normalize.fashion_mnist_like(
            augment.render_photo(image, pair_seed), image.shape[0]), lambda: image)
        return {**element, data.IMAGE_XF: image, IS_PHOTO: chosen}

    return tf.data.Dataset.zip((stream, ranks, seeds)).map(
        plain(maybe_render), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


def epoch_size(mode: str, counts: Mapping[int, int]) -> int:
    """Elements in one epoch of a mode's training stream."""
    if mode == OVERSAMPLE:
        return len(counts) * max(counts.values())
    return sum(counts.values())


def balanced_training_stream(examples: tf.data.Dataset, mode: str, counts: Mapping[int, int],
                             batch_size: int, seed: int, photo_fraction: float = 0.0,
                             counters: Optional[StreamCounters] = None) -> tf.data.Dataset:
    """The batched (image, label) training stream of a balance mode.

    Args:
      examples: natural training elements.
      mode: one of ``MODES``.
      counts: class id -> natural count, as measured by Transform.
      batch_size: batch size.
      seed: seed of every random choice.
      photo_fraction: share of the images rendered photo-like each epoch.
      counters: when given, the stream counts what it delivers into them.
    """
    if check_mode(mode) == OVERSAMPLE:
        stream = oversampled_stream(examples, counts, seed)
    else:
        stream = examples.cache().shuffle(65536, seed=seed, reshuffle_each_iteration=True)
    stream = photo_like(stream, photo_fraction, seed + 7, epoch_size(mode, counts))
    # Per batch, not per element: what is left is one map over batches.
    batches = stream.batch(batch_size)
    if counters is not None:
        batches = batches.map(plain(counters.count_batch))
    return batches.map(plain(data.to_model_inputs)).prefetch(tf.data.AUTOTUNE)


def report(mode: str, counts: Mapping[int, int],
           class_names: Sequence[str]) -> reports.BalanceReport:
    """Counts per class before balancing and per epoch after it."""
    target = max(counts.values())
    weights = class_weights(counts) if mode == CLASS_WEIGHT else {c: 1.0 for c in counts}
    rows = []
    for class_id, count in counts.items():
        copies = target - count if mode == OVERSAMPLE else 0
        rows.append(reports.BalanceRow(
            class_id=class_id, class_name=class_names[class_id], natural=count,
            augmented_copies_per_epoch=copies, per_epoch=count + copies,
            loss_weight=weights[class_id]))
    return reports.BalanceReport(mode=mode, classes=tuple(rows),
                                 before_total=sum(counts.values()),
                                 per_epoch_total=sum(row.per_epoch for row in rows))


def write_report(balance_report: reports.BalanceReport, directory: str) -> None:
    """Writes the report as JSON and as a bar chart PNG into ``directory``."""
    balance_report.write(os.path.join(directory, reports.BALANCE_REPORT_FILE))
    with tf.io.gfile.GFile(os.path.join(directory, REPORT_PNG), "wb") as f:
        f.write(_bar_chart(balance_report))


def _bar_chart(balance_report: dict) -> bytes:
    import io  # pylint: disable=g-import-not-at-top
    import matplotlib  # pylint: disable=g-import-not-at-top
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top
    rows = balance_report.classes
    names = [row.class_name for row in rows]
    positions = range(len(rows))
    figure, axes = plt.subplots(figsize=(6, 3.5), dpi=100)
    natural = [row.natural for row in rows]
    axes.bar([p - 0.2 for p in positions], natural, 0.4, label="before (natural)")
    axes.bar([p + 0.2 for p in positions], natural, 0.4, label="per epoch: natural",
             color="tab:green")
    axes.bar([p + 0.2 for p in positions], [row.augmented_copies_per_epoch for row in rows],
             0.4, bottom=natural, label="per epoch: augmented copies", color="tab:olive")
    axes.set_xticks(list(positions), names)
    axes.set_ylabel("training images")
    axes.set_title(f"Class balance ({balance_report.mode})")
    axes.legend(fontsize=8)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()


def fit_kwargs(mode: str, counts: Mapping[int, int]) -> Dict[str, Optional[dict]]:
    """Extra ``model.fit`` arguments of a mode: class weights for ``class_weight``."""
    return {"class_weight": class_weights(counts)} if mode == CLASS_WEIGHT else {}
