"""Fashion-MNIST images as tf.Examples: one image's example, and a Beam chunk of them."""

from __future__ import annotations

from typing import Callable, Iterator, Optional

import apache_beam as beam
import numpy as np
import tensorflow as tf

from imagepipe.components import features
from imagepipe.data import fashion_mnist, png


def _bytes_feature(value: bytes) -> tf.train.Feature:
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))


def make_example(image: np.ndarray, label: int, example_id: str) -> tf.train.Example:
    """Builds the raw tf.Example of one Fashion-MNIST image.

    Args:
      image: uint8 [28, 28], stored as a lossless grayscale PNG.
      label: the original Fashion-MNIST label (0-9).
      example_id: a stable id, e.g. ``train/00009``.

    Returns:
      The example with the image, label, label name and id features.
    """
    return tf.train.Example(features=tf.train.Features(feature={
        features.IMAGE_KEY: _bytes_feature(png.encode_gray(image)),
        features.LABEL_KEY: tf.train.Feature(int64_list=tf.train.Int64List(value=[label])),
        features.LABEL_NAME_KEY: _bytes_feature(
            features.FASHION_MNIST_LABEL_NAMES[label].encode()),
        features.EXAMPLE_ID_KEY: _bytes_feature(example_id.encode()),
    }))


class ChunkToExamples(beam.DoFn):
    """Turns a chunk of image positions into tf.Examples, reading the data once per worker.

    Only the positions travel through Beam (a few kB per chunk): pickling the
    images themselves into the pipeline cost 13 of ExampleGen's 40 s (bz2).
    """

    def __init__(self, read: Callable[[], fashion_mnist.LabelledImages]):
        """Keeps ``read``, a picklable function that returns the whole data set."""
        super().__init__()
        self._read = read
        self._data: Optional[fashion_mnist.LabelledImages] = None

    def setup(self) -> None:
        self._data = self._read()

    def process(self, positions: np.ndarray) -> Iterator[tf.train.Example]:
        data = self._data
        for position in positions:
            yield make_example(data.images[position], int(data.labels[position]),
                               data.ids[position])
