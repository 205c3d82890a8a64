"""Checks converted ImageNet weights on photos: is a clothing or footwear class in the top 5?

A wrong weight mapping still trains, only worse; the 1000-class classifier
shows it at once. On photos of garments, a correctly converted ImageNet
classifier names a garment, a shoe or a hat (``jersey``, ``jean``,
``running shoe``...) among its five best guesses for most photos; scrambled
weights name one arbitrary class for everything.

The ImageNet class order is TFDS's ``imagenet2012/labels.txt`` (WordNet ids in
index order); the garment classes below are WordNet ids with their ImageNet
names.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Dict, Iterable, List, Sequence

import numpy as np
import tf_keras as keras
from PIL import Image

from . import efficientnet_lite as lite
from . import efficientnet_weights

# ImageNet-1k classes that are garments, footwear or headwear (WordNet id -> name).
GARMENT_CLASSES: Dict[str, str] = {
    # tops, dresses, outerwear, suits
    "n03595614": "jersey", "n04370456": "sweatshirt", "n02963159": "cardigan",
    "n04479046": "trench coat", "n03404251": "fur coat", "n03045698": "cloak",
    "n03980874": "poncho", "n02916936": "bulletproof vest", "n04350905": "suit",
    "n03763968": "military uniform", "n03630383": "lab coat", "n03617480": "kimono",
    "n02667093": "abaya", "n02669723": "academic gown", "n03450230": "gown",
    "n04532106": "vestment", "n02730930": "apron", "n04325704": "stole",
    # lower
    "n03594734": "jean", "n03770439": "miniskirt", "n03866082": "overskirt",
    "n03534580": "hoopskirt", "n04136333": "sarong",
    # swimwear, sleepwear, underwear, hosiery, handwear
    "n04371430": "swimming trunks", "n03710637": "maillot", "n03710721": "tank suit",
    "n02837789": "bikini", "n02892767": "brassiere", "n03877472": "pajama",
    "n04254777": "sock", "n03775071": "mitten",
    # footwear
    "n04120489": "running shoe", "n04133789": "sandal", "n03680355": "Loafer",
    "n03124043": "cowboy boot", "n03047690": "clog",
    # headwear
    "n03124170": "cowboy hat", "n04259630": "sombrero", "n02869837": "bonnet",
    "n02807133": "bathing cap", "n04209133": "shower cap", "n03787032": "mortarboard",
    "n02817516": "bearskin", "n04229816": "ski mask",
}


def imagenet_synsets() -> List[str]:
    """The 1000 ImageNet WordNet ids in class index order (shipped by tensorflow-datasets)."""
    import tensorflow_datasets  # pylint: disable=g-import-not-at-top
    path = os.path.join(os.path.dirname(tensorflow_datasets.__file__), "datasets",
                        "imagenet2012", "labels.txt")
    with open(path, encoding="utf-8") as f:
        synsets = f.read().split()
    if len(synsets) != lite.IMAGENET_CLASSES:
        raise ValueError(f"{path}: {len(synsets)} ImageNet labels, expected 1000")
    return synsets


def garment_indices() -> Dict[int, str]:
    """ImageNet class index -> name, for the garment classes."""
    return {i: GARMENT_CLASSES[s] for i, s in enumerate(imagenet_synsets())
            if s in GARMENT_CLASSES}


def classifier(weights_path: str, size: int = lite.LITE0.native_size,
               variant: lite.Variant = lite.LITE0) -> keras.Model:
    """An EfficientNet-Lite 1000-class ImageNet classifier on [0, 1] RGB images."""
    base = lite.lite_base(size, variant)
    model = lite.imagenet_classifier(base)
    efficientnet_weights.load_into(model, weights_path)
    inputs = keras.Input(shape=(size, size, 3))
    return keras.Model(inputs, model(lite.LitePreprocess()(inputs)))


def centre_crop(path: str, size: int = lite.LITE0.native_size) -> np.ndarray:
    """A photo's centre square at ``size`` x ``size``, RGB in [0, 1]."""
    with Image.open(path) as image:
        image = image.convert("RGB")
        side = min(image.size)
        left, top = (image.width - side) // 2, (image.height - side) // 2
        image = image.crop((left, top, left + side, top + side)).resize(
            (size, size), Image.BILINEAR)
        return np.asarray(image, np.float32) / 255.0


@dataclasses.dataclass(frozen=True)
class PhotoTop5:
    """One photo's five best ImageNet classes and whether one of them is a garment."""

    path: str
    top5: Sequence[str]
    garment_in_top5: bool


def top5(model: keras.Model, paths: Iterable[str], batch_size: int = 32,
         size: int = lite.LITE0.native_size) -> List[PhotoTop5]:
    """Runs the classifier on photos (centre crop) and names each one's five best classes."""
    synsets, garments = imagenet_synsets(), garment_indices()
    paths = list(paths)
    results: List[PhotoTop5] = []
    for start in range(0, len(paths), batch_size):
        chunk = paths[start:start + batch_size]
        logits = model.predict(np.stack([centre_crop(p, size) for p in chunk]), verbose=0)
        for path, row in zip(chunk, logits):
            best = np.argsort(-row)[:5]
            results.append(PhotoTop5(path, [garments.get(int(i), synsets[i]) for i in best],
                                     any(int(i) in garments for i in best)))
    return results
