"""Frozen-base head recipes on a photo folder: resize mode and mirrored views, several seeds.

The folder pipeline's default recipe trains a new head on an ImageNet-pretrained
EfficientNet-Lite base whose features are computed once. This bench computes
those pooled features for every photo of a ``train`` and a ``validation``
folder in four views (``pad`` and ``crop`` resizing, each plain and mirrored),
caches them, then trains the pipeline's head (Dropout, Dense; Adam, early
stopping on a 15% split of ``train``) on 70% of ``train`` with several seeds
for each recipe, and prints accuracy and balanced accuracy on ``validation``.
With ``--class-map`` the folders are merged into its classes (others left out).

    python bench/frozen_head_bench.py ../shared/photos/clothing --seeds 3
    python bench/frozen_head_bench.py ../shared/photos/clothing \\
        --class-map ../shared/photos/clothing/fashion-mnist-classes.yaml
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Dict, List, Sequence, Tuple

import numpy as np
import tensorflow as tf
import tf_keras as keras

from imagepipe.components import photo_preprocessing
from imagepipe.components.models import efficientnet_lite, efficientnet_weights
from imagepipe.data import class_map as class_map_lib

VIEWS = ("pad", "pad_mirror", "crop", "crop_mirror")
RECIPES: Dict[str, Tuple[Sequence[str], Sequence[str]]] = {  # name: (train views, test views)
    "pad (the default)": (["pad"], ["pad"]),
    "pad --mirror": (["pad", "pad_mirror"], ["pad"]),
    "crop": (["crop"], ["crop"]),
    "crop --mirror": (["crop", "crop_mirror"], ["crop"]),
}


def photo_list(folder: str) -> Tuple[List[str], List[str]]:
    """Paths and folder names of every file one level down in ``folder``, sorted."""
    paths, folders = [], []
    for name in sorted(os.listdir(folder)):
        for file in sorted(os.listdir(os.path.join(folder, name))):
            paths.append(os.path.join(folder, name, file))
            folders.append(name)
    return paths, folders


def extractor(size: int) -> keras.Model:
    """The ImageNet EfficientNet-Lite0 base with its preprocessing and average pooling."""
    base = efficientnet_lite.lite_base(size)
    efficientnet_weights.load_into(base, efficientnet_weights.imagenet_file())
    images = keras.Input([size, size, 3])
    pooled = keras.layers.GlobalAveragePooling2D()(
        base(efficientnet_lite.LitePreprocess()(images), training=False))
    return keras.Model(images, pooled)


def features(model: keras.Model, paths: Sequence[str], size: int) -> Dict[str, np.ndarray]:
    """Pooled features of every photo in each of VIEWS."""
    out: Dict[str, np.ndarray] = {}
    for mode in ("pad", "crop"):
        batches = tf.data.Dataset.from_tensor_slices(list(paths)).map(
            lambda path, m=mode: photo_preprocessing.fit(
                photo_preprocessing.decode_rgb(tf.io.read_file(path)), size, m)).batch(32)
        plain, mirrored = [], []
        for batch in batches:
            plain.append(model(batch, training=False).numpy())
            mirrored.append(model(batch[:, :, ::-1], training=False).numpy())
        out[mode], out[f"{mode}_mirror"] = np.concatenate(plain), np.concatenate(mirrored)
    return out


def cached_features(folder: str, cache: str, size: int, model_holder: list):
    """(features by view, folder names) of ``folder``, computed once into ``cache``."""
    path = os.path.join(cache, f"{os.path.basename(os.path.normpath(folder))}_{size}.npz")
    if os.path.exists(path):
        data = np.load(path)
        return {v: data[v] for v in VIEWS}, list(data["folders"])
    paths, folders = photo_list(folder)
    if not model_holder:
        model_holder.append(extractor(size))
    start = time.perf_counter()
    views = features(model_holder[0], paths, size)
    print(f"{folder}: {len(paths)} photos x {len(VIEWS)} views in "
          f"{time.perf_counter() - start:.0f} s", flush=True)
    os.makedirs(cache, exist_ok=True)
    np.savez(path, folders=np.array(folders), **views)
    return views, folders


def split_70_15(labels: np.ndarray, seed: int) -> Tuple[np.ndarray, np.ndarray]:
    """Indices of a per-class 70% training and 15% early-stopping split."""
    rng = np.random.default_rng(seed)
    train, held = [], []
    for label in np.unique(labels):
        ids = rng.permutation(np.flatnonzero(labels == label))
        cut, end = int(round(0.7 * len(ids))), int(round(0.85 * len(ids)))
        train += list(ids[:cut])
        held += list(ids[cut:end])
    return np.array(train), np.array(held)


def head_scores(train: Dict[str, np.ndarray], labels: np.ndarray, test: Dict[str, np.ndarray],
                test_labels: np.ndarray, recipe: Tuple[Sequence[str], Sequence[str]],
                classes: int, seed: int) -> Tuple[float, float]:
    """(accuracy, balanced accuracy) on ``test`` of the pipeline's head trained with ``recipe``."""
    train_views, test_views = recipe
    keras.utils.set_random_seed(seed)
    fit_ids, stop_ids = split_70_15(labels, 1001)
    inputs = keras.Input([train[VIEWS[0]].shape[1]])
    model = keras.Model(inputs, keras.layers.Dense(classes)(keras.layers.Dropout(0.2)(inputs)))
    model.compile(keras.optimizers.Adam(1e-3),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(np.concatenate([train[v][fit_ids] for v in train_views]),
              np.concatenate([labels[fit_ids]] * len(train_views)), batch_size=32, epochs=200,
              verbose=0, validation_data=(train[train_views[0]][stop_ids], labels[stop_ids]),
              callbacks=[keras.callbacks.EarlyStopping(patience=5, restore_best_weights=True)])
    predicted = np.mean([tf.nn.softmax(model.predict(test[v], verbose=0)).numpy()
                         for v in test_views], axis=0).argmax(axis=1)
    recalls = [np.mean(predicted[test_labels == c] == c) for c in np.unique(test_labels)]
    return float(np.mean(predicted == test_labels)), float(np.mean(recalls))


def labelled(views: Dict[str, np.ndarray], folders: Sequence[str], groups: Dict[str, str],
             names: Sequence[str]):
    """The views and class ids of the photos whose folder belongs to a class."""
    keep = np.array([folder in groups for folder in folders])
    ids = np.array([names.index(groups[f]) for f in folders if f in groups])
    return {v: x[keep] for v, x in views.items()}, ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", help="folder holding train/ and validation/")
    parser.add_argument("--class-map", help="JSON/YAML map of classes to folders")
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--cache", default="/tmp/imagepipe-frozen-head-bench")
    args = parser.parse_args()
    holder: list = []
    train, folders = cached_features(os.path.join(args.root, "train"), args.cache,
                                     args.image_size, holder)
    test, test_folders = cached_features(os.path.join(args.root, "validation"), args.cache,
                                         args.image_size, holder)
    if args.class_map:
        mapping = class_map_lib.load(args.class_map)
        groups = class_map_lib.folder_to_class(mapping)
        names = list(class_map_lib.class_names(mapping))
    else:
        names = sorted(set(folders))
        groups = {name: name for name in names}
    train, labels = labelled(train, folders, groups, names)
    test, test_labels = labelled(test, test_folders, groups, names)
    print(f"{len(names)} classes; train {len(labels)} photos (70% fit, 15% early stopping), "
          f"validation {len(test_labels)}; seeds 0..{args.seeds - 1}")
    print(f"{'recipe':20s} {'accuracy per seed':28s} {'mean':>7s} {'balanced':>9s}")
    for name, recipe in RECIPES.items():
        scores = [head_scores(train, labels, test, test_labels, recipe, len(names), seed)
                  for seed in range(args.seeds)]
        per_seed = " ".join(f"{a:.2%}" for a, _ in scores)
        print(f"{name:20s} {per_seed:28s} {np.mean([a for a, _ in scores]):7.2%} "
              f"{np.mean([b for _, b in scores]):9.2%}", flush=True)


if __name__ == "__main__":
    main()
