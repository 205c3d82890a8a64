"""Fashion-MNIST sources: the canonical IDX files, TFDS, and the canonical download.

Both sources give the same thing: all 70,000 images (the official train and
test files together, as the lab report used them) with their original labels
and a stable id per image, e.g. ``train/00042`` or ``t10k/09999``. Splitting and
the class map are the pipeline's business, not the source's.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import urllib.request
from typing import Dict, Iterable, List, Optional, Tuple

import numpy as np

from . import idx

IMAGE_SHAPE = (28, 28)
NUM_LABELS = 10

# (part, images file, labels file); the official train part comes first.
PARTS: Tuple[Tuple[str, str, str], ...] = (
    ("train", "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    ("t10k", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
)

# Published MD5s of the canonical files (github.com/zalandoresearch/fashion-mnist).
CANONICAL_MD5: Dict[str, str] = {
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}
CANONICAL_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
DEBIAN_DIR = "/usr/share/datasets/fashion-mnist"
TFDS_NAME = "fashion_mnist"


@dataclasses.dataclass(frozen=True)
class LabelledImages:
    """Images with their original labels and stable ids, in source order."""

    images: np.ndarray  # uint8 [N, 28, 28]
    labels: np.ndarray  # uint8 [N]
    ids: Tuple[str, ...]

    def __post_init__(self):
        if not len(self.images) == len(self.labels) == len(self.ids):
            raise ValueError(
                f"{len(self.images)} images, {len(self.labels)} labels and "
                f"{len(self.ids)} ids: the counts must be equal")

    def __len__(self) -> int:
        return len(self.labels)


def _find_file(directory: str, name: str) -> str:
    """Returns the path of ``name`` in ``directory``, gzip or not."""
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    for candidate in (name, name[:-len(".gz")]):
        path = os.path.join(directory, candidate)
        if tf.io.gfile.exists(path):
            return path
    raise FileNotFoundError(
        f"Fashion-MNIST file {name} (or its uncompressed form) is missing from {directory}")


def read_part_labels(directory: str, part: str) -> np.ndarray:
    """Reads the labels of one part (``train`` or ``t10k``) of the IDX files."""
    _, _, labels_name = _part(part)
    return idx.read_labels(_find_file(directory, labels_name), NUM_LABELS)


def read_part_images(directory: str, part: str) -> np.ndarray:
    """Reads the images of one part (``train`` or ``t10k``) of the IDX files."""
    _, images_name, _ = _part(part)
    return idx.read_images(_find_file(directory, images_name), IMAGE_SHAPE)


def _part(part: str) -> Tuple[str, str, str]:
    for entry in PARTS:
        if entry[0] == part:
            return entry
    raise ValueError(f"unknown Fashion-MNIST part {part!r}; known: {[p[0] for p in PARTS]}")


def part_ids(part: str, count: int) -> Tuple[str, ...]:
    """Returns the stable ids of the images of one part."""
    return tuple(f"{part}/{i:05d}" for i in range(count))


def read_idx_directory(directory: str) -> LabelledImages:
    """Reads all 70,000 images of the canonical IDX files in ``directory``.

    Raises:
      FileNotFoundError: a file is missing.
      idx.IdxFormatError: a file is malformed or the counts disagree.
    """
    images, labels, ids = [], [], []
    for part, images_name, labels_name in PARTS:
        part_images = read_part_images(directory, part)
        part_labels = read_part_labels(directory, part)
        if len(part_images) != len(part_labels):
            raise idx.IdxFormatError(
                f"{_find_file(directory, images_name)} holds {len(part_images)} images but "
                f"{_find_file(directory, labels_name)} holds {len(part_labels)} labels")
        images.append(part_images)
        labels.append(part_labels)
        ids.extend(part_ids(part, len(part_labels)))
    return LabelledImages(np.concatenate(images), np.concatenate(labels), tuple(ids))


def read_tfds(data_dir: Optional[str] = None, download: bool = True) -> LabelledImages:
    """Reads all 70,000 images of the TFDS ``fashion_mnist`` data set.

    The TFDS train split maps to ids ``train/NNNNN`` and its test split to
    ``t10k/NNNNN``, in TFDS order, as for the IDX files.

    Args:
      data_dir: the TFDS data directory (None: TFDS's default).
      download: download and prepare the data set when it is not there yet.
    """
    import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
    images, labels, ids = [], [], []
    for part, tfds_split in (("train", "train"), ("t10k", "test")):
        dataset = tfds.load(TFDS_NAME, split=tfds_split, as_supervised=True,
                            data_dir=data_dir, download=download, shuffle_files=False)
        batches = list(tfds.as_numpy(dataset.batch(10000)))
        part_images = np.concatenate([b[0] for b in batches])
        part_labels = np.concatenate([b[1] for b in batches])
        images.append(part_images.reshape((-1,) + IMAGE_SHAPE).astype(np.uint8))
        labels.append(part_labels.astype(np.uint8))
        ids.extend(part_ids(part, len(part_labels)))
    return LabelledImages(np.concatenate(images), np.concatenate(labels), tuple(ids))


def default_data_dir() -> str:
    """Returns where the canonical files are looked for when no directory is given.

    ``$IMAGEPIPE_FASHION_MNIST_DIR`` when set, else the Debian package's folder
    when it exists, else ``~/.cache/imagepipe/fashion-mnist`` (where
    :func:`download_canonical` puts them).
    """
    from_env = os.environ.get("IMAGEPIPE_FASHION_MNIST_DIR")
    if from_env:
        return from_env
    if os.path.isdir(DEBIAN_DIR):
        return DEBIAN_DIR
    return os.path.join(os.path.expanduser("~"), ".cache", "imagepipe", "fashion-mnist")


def md5_of(path: str) -> str:
    """Returns the hex MD5 of a local file."""
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download_canonical(destination: str, base_url: str = CANONICAL_URL,
                       names: Iterable[str] = tuple(CANONICAL_MD5)) -> List[str]:
    """Downloads the canonical files into ``destination`` and checks their MD5s.

    Files already present with the right MD5 are kept. A download whose MD5 is
    wrong is deleted and reported.

    Returns:
      The paths of the four verified files.

    Raises:
      IOError: a download failed or its MD5 differs from the published one.
    """
    os.makedirs(destination, exist_ok=True)
    paths = []
    for name in names:
        path = os.path.join(destination, name)
        if not (os.path.exists(path) and md5_of(path) == CANONICAL_MD5[name]):
            partial = path + ".part"
            try:
                urllib.request.urlretrieve(base_url + name, partial)
            except OSError as e:
                raise IOError(f"downloading {base_url + name} failed: {e}") from e
            got = md5_of(partial)
            if got != CANONICAL_MD5[name]:
                os.remove(partial)
                raise IOError(f"{base_url + name}: MD5 {got} differs from the published "
                              f"{CANONICAL_MD5[name]}; the file was deleted")
            os.replace(partial, path)
        paths.append(path)
    return paths
