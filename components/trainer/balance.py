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
:class:`StreamCounters` count what the stream delivered. With it, the copies
of bottoms and shoes are first recut or paired (:func:`recut`), so the plain
images show the garments Fashion-MNIST lacks too.

The counts come from the Transform output (an analyzer over the training
split), not from a second pass over the data. Evaluation streams are never
touched.
"""

from __future__ import annotations

import os
from typing import Dict, Mapping, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft

from imagepipe.components import (augment, charts, features, normalize, photo_garments,
                                  photo_render, photo_scene, reports, settings)
from imagepipe.components.trainer import data
from imagepipe.components.trainer.data import plain

OVERSAMPLE = settings.BALANCE_OVERSAMPLE
CLASS_WEIGHT = settings.BALANCE_CLASS_WEIGHT
NONE = settings.BALANCE_NONE
MODES = settings.BALANCE_MODES
IS_COPY = "is_copy"
IS_PHOTO = "is_photo"
IS_RESHAPED = "is_reshaped"
REPORT_PNG = "balance_report.png"
RECUT_SEED = 3  # folded into an element's seed: its recut draws apart from its augmentation


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


def in_memory(examples: tf.data.Dataset) -> Dict[str, tf.Tensor]:
    """Reads a finite dataset of dict elements into one tensor per key (element order kept).

    What ``Dataset.cache()`` would hold anyway; as tensors, an epoch is a plan
    of indices and the training stream never copies images through shuffle
    buffers or per-class pipelines.
    """
    batches = list(examples.batch(4096))
    if not batches:
        raise ValueError("the training split has no examples")
    return {key: tf.concat([batch[key] for batch in batches], axis=0) for key in batches[0]}


def id_order(tensors: Mapping[str, tf.Tensor]) -> np.ndarray:
    """The positions of the examples sorted by example id (as read, when they have none).

    ExampleGen's files hold no fixed order (its chunks are reshuffled across
    Beam workers), so the same data reads back in another order from one run to
    the next. Epochs are planned over this order instead: the same seed trains
    on the same sequence of images whatever order the files hold.
    """
    size = int(tensors[data.LABEL_XF].shape[0])
    if data.EXAMPLE_ID_XF not in tensors:
        return np.arange(size)
    return np.argsort(tensors[data.EXAMPLE_ID_XF].numpy(), kind="stable")


def _permutation(size: int, seed: tf.Tensor) -> tf.Tensor:
    return tf.argsort(tf.random.stateless_uniform([size], seed=seed))


def _oversampling_plan(class_indices: Mapping[int, np.ndarray], counts: Mapping[int, int],
                       epoch_seed: tf.Tensor) -> Tuple[tf.Tensor, tf.Tensor]:
    """One epoch: (example index, is_copy) for every element, in a random order.

    Every natural image once; each class topped up to the largest count with
    copies of its own images, spread evenly (each image copied ``k`` or
    ``k + 1`` times), chosen afresh from ``epoch_seed``.
    """
    target = max(counts.values())
    seeds = tf.random.experimental.stateless_split(epoch_seed, len(class_indices) + 1)
    indices, copies = [], []
    for k, (class_id, own_indices) in enumerate(sorted(class_indices.items())):
        natural = len(own_indices)
        own = tf.constant(own_indices, tf.int64)
        indices.append(own)
        copies.append(tf.zeros([natural], tf.bool))
        extra = target - counts[class_id]
        if extra > 0 and natural:
            rounds = -(-extra // natural)
            round_seeds = tf.random.experimental.stateless_split(seeds[k + 1], rounds)
            shuffled = tf.concat([tf.gather(own, _permutation(natural, round_seeds[r]))
                                  for r in range(rounds)], axis=0)[:extra]
            indices.append(shuffled)
            copies.append(tf.ones([extra], tf.bool))
    index, is_copy = tf.concat(indices, axis=0), tf.concat(copies, axis=0)
    order = _permutation(int(index.shape[0]), seeds[0])
    return tf.gather(index, order), tf.gather(is_copy, order)


def _natural_plan(size: int, epoch_seed: tf.Tensor) -> Tuple[tf.Tensor, tf.Tensor]:
    """One epoch of the natural data: every example once, in a random order."""
    return _permutation(size, epoch_seed), tf.zeros([size], tf.bool)


def recut(garment_kinds: Sequence[int],
          config: photo_render.PhotoConfig = photo_render.PhotoConfig()):
    """(image, label, seed) -> image: bottoms recut, shoes paired, anything else as it is.

    A class of garment kind ``BOTTOM`` (:func:`~imagepipe.components.photo_scene.garment_kinds`)
    becomes shorts, a skirt or trousers with their legs apart with the
    probabilities ``config.shorts``, ``config.skirt`` and ``config.legs_apart``
    (:func:`~imagepipe.components.photo_garments.recut_bottoms`); a ``SHOE``
    becomes a pair seen from above with probability ``config.pair``
    (:func:`~imagepipe.components.photo_scene.pair_images`); each drawn
    afresh from the element's seed. With no garment kinds, images stay as
    they are. Oversampling's copies then show the garments Fashion-MNIST
    lacks as plain images too, not only in the rendered photos.
    """
    if not garment_kinds:
        return lambda image, label, seed: image
    is_bottom = tf.constant([kind == photo_scene.BOTTOM for kind in garment_kinds])
    is_shoe = tf.constant([kind == photo_scene.SHOE for kind in garment_kinds])

    def recut_one(image, label, seed):
        seeds = tf.random.experimental.stateless_split(
            tf.random.experimental.stateless_fold_in(tf.cast(seed, tf.int64), RECUT_SEED), 3)
        image = photo_garments.recut_bottom(image, tf.gather(is_bottom, label), seeds[0], config)
        paired = tf.gather(is_shoe, label) & (
            tf.random.stateless_uniform([], seeds[1]) < config.pair)
        return tf.cond(paired, lambda: photo_scene.pair_images(image[tf.newaxis], seeds[2],
                                                               config)[0],
                       lambda: image)
    return recut_one


def _planned_stream(tensors: Mapping[str, tf.Tensor], order: np.ndarray, plan, seed: int,
                    config: Optional[augment.AugmentConfig],
                    batch_size: Optional[int] = None,
                    garment_kinds: Sequence[int] = ()) -> tf.data.Dataset:
    """Elements of a fresh plan each epoch (iterate again: a new epoch); copies augmented.

    The plan's indices are positions in ``order`` (:func:`id_order`).
    ``config`` None: elements are gathered only (copies are exact).
    ``batch_size`` (only with ``config`` None): the plan is cut into batches
    and each batch is gathered at once, the same batches as batching the
    elements, one gather per batch instead of one dataset element per image.
    ``garment_kinds`` (see :func:`recut`): copies of bottoms and shoes are
    recut or paired before they are augmented, and carry ``is_reshaped`` so
    that the renderer does not recut or pair them again.
    """
    if batch_size is not None and config is not None:
        raise ValueError("augmented copies are made one element at a time; batch afterwards")
    recut_garment = recut(garment_kinds)
    # Variables, not captured tensors: tf.data's graph rewrites would copy captured tensors
    # into the dataset's GraphDef as constants (and fail past 2 GB).
    stores = {key: tf.Variable(value, trainable=False) for key, value in tensors.items()}
    stored_at = tf.Variable(tf.constant(order, tf.int64), trainable=False)

    def epoch(epoch_seed):
        planned, is_copy = plan(epoch_seed)
        index = tf.gather(stored_at, planned)
        positions = tf.range(tf.size(index, out_type=tf.int64))
        copy_seeds = tf.stack([tf.fill(tf.shape(positions), epoch_seed[1]), positions], axis=1)
        slices = tf.data.Dataset.from_tensor_slices((index, is_copy, copy_seeds))
        return slices if batch_size is None else slices.batch(batch_size)

    def element(index, is_copy, copy_seed):
        picked = {key: tf.gather(store, index) for key, store in stores.items()}
        image, label = picked[data.IMAGE_XF], picked[data.LABEL_XF]
        if config is not None:
            image = tf.cond(is_copy, lambda: augment.augment_image(
                recut_garment(image, label, copy_seed), copy_seed, config), lambda: image)
        reshaped = {IS_RESHAPED: is_copy} if garment_kinds and config is not None else {}
        return {**picked, data.IMAGE_XF: image, IS_COPY: is_copy, **reshaped}

    epoch_seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
    stream = epoch_seeds.take(1).flat_map(plain(epoch)).map(
        plain(element), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    # pylint: disable-next=protected-access
    stream._imagepipe_stores = (stores, stored_at)  # keeps them alive
    return stream


def _class_indices(tensors: Mapping[str, tf.Tensor], order: np.ndarray,
                   counts: Mapping[int, int]) -> Dict[int, np.ndarray]:
    """Each class's positions in ``order``."""
    labels = tensors[data.LABEL_XF].numpy()[order]
    return {class_id: np.flatnonzero(labels == class_id) for class_id in counts}


def oversampled_stream(examples: tf.data.Dataset, counts: Mapping[int, int], seed: int,
                       config: Optional[augment.AugmentConfig] = augment.AugmentConfig(),
                       batch_size: Optional[int] = None,
                       garment_kinds: Sequence[int] = ()) -> tf.data.Dataset:
    """One epoch of balanced training elements, unbatched (iterate again: a fresh epoch).

    Args:
      examples: natural training elements (dicts with ``label_xf``), read into
        memory once (:func:`in_memory`).
      counts: class id -> natural count, as measured by Transform.
      seed: seed of every random choice.
      config: augmentation ranges of the copies; None: exact copies.
      batch_size: with ``config`` None, batches of this size instead of
        elements (the same batches as batching the elements).
      garment_kinds: the garment kind of each class id: copies of bottoms are
        recut and copies of shoes paired (:func:`recut`); none when empty.

    Returns:
      ``len(counts) * max(counts)`` elements per epoch, exactly ``max(counts)``
      per class, classes interleaved at random; elements carry ``is_copy``.
    """
    tensors = in_memory(examples)
    order = id_order(tensors)
    class_indices = _class_indices(tensors, order, counts)
    return _planned_stream(tensors, order,
                           lambda s: _oversampling_plan(class_indices, counts, s),
                           seed, config, batch_size, garment_kinds)


def natural_stream(examples: tf.data.Dataset, seed: int,
                   batch_size: Optional[int] = None) -> tf.data.Dataset:
    """The natural training elements, every one once per epoch, reshuffled each epoch.

    ``batch_size``: batches of this size instead of elements (the same batches).
    """
    tensors = in_memory(examples)
    order = id_order(tensors)
    return _planned_stream(tensors, order, lambda s: _natural_plan(len(order), s), seed, None,
                           batch_size)


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


# Photos are rendered and normalized this many elements at a time: batched ops over a quarter of
# 256 elements cost half as much per photo as over a quarter of a batch of 32.
RENDER_GROUP = 256


def photo_like(stream: tf.data.Dataset, fraction: float, seed: int, epoch_size: int,
               garment_kinds: Sequence[int] = ()) -> tf.data.Dataset:
    """Renders ``fraction`` of the images as photos and normalizes them back, fresh each epoch.

    Exactly ``round(fraction * epoch_size)`` images of each epoch are chosen,
    at random and anew every epoch. The model then meets what
    :func:`normalize.fashion_mnist_like` makes of real photos (off-centre,
    coloured, light backgrounds, blur, noise, JPEG). Elements carry ``is_photo``
    (with ``fraction`` 0 the stream is returned as it is). The chosen images of
    each RENDER_GROUP elements are rendered (:func:`photo_render.render_photos`) and
    normalized (:func:`normalize.fashion_mnist_like_batch`, the served graph's
    pixels) as one batch.

    Args:
      stream: one epoch of training elements (dicts with ``image_xf``).
      fraction: share of the images rendered, in [0, 1].
      seed: seed of the choice and of the rendering.
      epoch_size: the number of elements in one epoch of ``stream``.
      garment_kinds: the garment kind of each class id
        (:func:`~imagepipe.components.photo_scene.garment_kinds`): shoes may be rendered as a pair, tops
        and bottoms on a hanger, any of them worn; none staged when empty.
    """
    if fraction <= 0.0 or epoch_size <= 0:
        return stream
    chosen_count = int(round(fraction * epoch_size))
    ranks = (tf.data.Dataset.range(epoch_size)
             .shuffle(epoch_size, seed=seed, reshuffle_each_iteration=True).repeat())
    seeds = tf.data.Dataset.random(seed=seed + 1, rerandomize_each_iteration=True).batch(2)

    def render_chosen(ranked, group_seed):
        elements, group_ranks = ranked
        images = elements[data.IMAGE_XF]
        chosen = group_ranks < chosen_count
        positions = tf.where(chosen)[:, 0]
        kinds = (tf.gather(tf.constant(garment_kinds, tf.int32),
                           tf.gather(elements[data.LABEL_XF], positions))
                 if garment_kinds else None)
        reshaped = (tf.gather(elements[IS_RESHAPED], positions) if IS_RESHAPED in elements
                    else None)
        photos = tf.cond(
            tf.size(positions) > 0,
            lambda: normalize.fashion_mnist_like_batch(photo_render.render_photos(
                tf.gather(images, positions), group_seed, kinds=kinds, reshaped=reshaped),
                images.shape[1]),
            lambda: tf.zeros([0, *images.shape[1:]]))
        images = tf.tensor_scatter_nd_update(images, positions[:, None], photos)
        return {**elements, data.IMAGE_XF: images, IS_PHOTO: chosen}

    groups = tf.data.Dataset.zip((tf.data.Dataset.zip((stream, ranks)).batch(RENDER_GROUP), seeds))
    return groups.map(plain(render_chosen), num_parallel_calls=tf.data.AUTOTUNE,
                      deterministic=True).unbatch()


def epoch_size(mode: str, counts: Mapping[int, int]) -> int:
    """Elements in one epoch of a mode's training stream."""
    if mode == OVERSAMPLE:
        return len(counts) * max(counts.values())
    return sum(counts.values())


def balanced_training_stream(examples: tf.data.Dataset, mode: str, counts: Mapping[int, int],
                             batch_size: int, seed: int, photo_fraction: float = 0.0,
                             counters: Optional[StreamCounters] = None,
                             garment_kinds: Sequence[int] = (),
                             augment_copies: bool = True,
                             copy_rotation: float = augment.AugmentConfig.max_rotation
                             ) -> tf.data.Dataset:
    """The batched (image, label) training stream of a balance mode.

    Args:
      examples: natural training elements.
      mode: one of ``MODES``.
      counts: class id -> natural count, as measured by Transform.
      batch_size: batch size.
      seed: seed of every random choice.
      photo_fraction: share of the images rendered photo-like each epoch.
      counters: when given, the stream counts what it delivers into them.
      garment_kinds: the garment kind of each class id (see :func:`photo_like`);
        with ``photo_fraction`` above 0, oversampling's copies of bottoms are
        also recut and copies of shoes paired (:func:`recut`), plain images
        and photos alike.
      augment_copies: whether oversampling's copies are augmented; False for
        elements that are not images (a frozen base's features): exact copies.
      copy_rotation: largest rotation of an augmented copy, a fraction of a
        full turn (the report's 0.2 by default).
    """
    copies_augmented = check_mode(mode) == OVERSAMPLE and augment_copies
    # Without per-element work (augmented copies, photos), whole batches are gathered at once.
    gathered_batch = None if copies_augmented or photo_fraction > 0.0 else batch_size
    recut_kinds = tuple(garment_kinds) if photo_fraction > 0.0 else ()
    if mode == OVERSAMPLE:
        stream = oversampled_stream(examples, counts, seed,
                                    augment.AugmentConfig(max_rotation=copy_rotation)
                                    if augment_copies else None,
                                    gathered_batch, recut_kinds)
    else:
        stream = natural_stream(examples, seed, gathered_batch)
    stream = photo_like(stream, photo_fraction, seed + 7, epoch_size(mode, counts),
                        garment_kinds)  # with whole batches, photo_fraction is 0: returned as is
    # Per batch, not per element: what is left is one map over batches.
    batches = stream if gathered_batch else stream.batch(batch_size)
    if counters is not None:
        batches = batches.map(plain(counters.count_batch))
    return data.without_autotune(
        batches.map(plain(data.to_model_inputs)).prefetch(tf.data.AUTOTUNE))


def report(mode: str, counts: Mapping[int, int], class_names: Sequence[str],
           augmented_copies: bool = True) -> reports.BalanceReport:
    """Counts per class before balancing and per epoch after it (copies augmented or exact)."""
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
                                 per_epoch_total=sum(row.per_epoch for row in rows),
                                 copies="augmented" if augmented_copies else "exact")


def write_report(balance_report: reports.BalanceReport, directory: str) -> None:
    """Writes the report as JSON and as a bar chart PNG into ``directory``."""
    balance_report.write(os.path.join(directory, reports.BALANCE_REPORT_FILE))
    with tf.io.gfile.GFile(os.path.join(directory, REPORT_PNG), "wb") as f:
        f.write(_bar_chart(balance_report))


def _bar_chart(balance_report: dict) -> bytes:
    plt = charts.pyplot()
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
    return charts.png(figure)


def fit_kwargs(mode: str, counts: Mapping[int, int]) -> Dict[str, Optional[dict]]:
    """Extra ``model.fit`` arguments of a mode: class weights for ``class_weight``."""
    return {"class_weight": class_weights(counts)} if mode == CLASS_WEIGHT else {}
