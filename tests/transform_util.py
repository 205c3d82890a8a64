"""Runs the real preprocessing_fn through tf.Transform (Beam, in memory) for unit tests."""

from __future__ import annotations

import os
from typing import Dict, List, Sequence, Tuple

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam
from tensorflow_transform.tf_metadata import dataset_metadata, metadata_io, schema_utils

from imagepipe.components import features, preprocessing
from imagepipe.data import png

RAW_FEATURE_SPEC = {
    features.IMAGE_KEY: tf.io.FixedLenFeature([1], tf.string),
    features.LABEL_KEY: tf.io.FixedLenFeature([1], tf.int64),
    features.LABEL_NAME_KEY: tf.io.FixedLenFeature([1], tf.string),
    features.EXAMPLE_ID_KEY: tf.io.FixedLenFeature([1], tf.string),
}


def raw_rows(images: np.ndarray, labels: Sequence[int]) -> List[Dict[str, list]]:
    """Raw instances as ExampleGen writes them, in tf.Transform's instance-dict form."""
    return [{features.IMAGE_KEY: [png.encode_gray(image)], features.LABEL_KEY: [int(label)],
             features.LABEL_NAME_KEY: [features.FASHION_MNIST_LABEL_NAMES[int(label)].encode()],
             features.EXAMPLE_ID_KEY: [f"id{i}".encode()]}
            for i, (image, label) in enumerate(zip(images, labels))]


def analyze_and_transform(rows: List[Dict[str, list]], output_dir: str
                          ) -> Tuple[List[Dict[str, np.ndarray]], tft.TFTransformOutput]:
    """Analyzes ``rows`` and transforms them; writes a TFT output folder like Transform's."""
    metadata = dataset_metadata.DatasetMetadata(
        schema_utils.schema_from_feature_spec(RAW_FEATURE_SPEC))
    with tft_beam.Context(temp_dir=os.path.join(output_dir, "tmp")):
        (transformed, _), transform_fn = (rows, metadata) | tft_beam.AnalyzeAndTransformDataset(
            preprocessing.preprocessing_fn)
        _ = transform_fn | tft_beam.WriteTransformFn(output_dir)
    metadata_io.write_metadata(
        metadata, os.path.join(output_dir, tft.TFTransformOutput.RAW_METADATA_DIR))
    return transformed, tft.TFTransformOutput(output_dir)
