"""A fourth data source, as a user would add one: this module and nothing else.

``npz``: a NumPy ``images.npz`` (``images`` uint8 [N, 28, 28], ``labels`` int
[N], ``class_names`` str [K]) in ``--data-dir``. Importing the module
registers it; ``imagepipe run npz --data-dir DIR`` then runs the whole
pipeline on it (tests/pipeline/test_sources.py).
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Dict, List, Mapping, Tuple

import apache_beam as beam
import numpy as np
import tensorflow as tf
from tfx.components.example_gen import base_example_gen_executor
from tfx.components.example_gen import component as example_gen_component
from tfx.dsl.components.base import executor_spec
from tfx.types import standard_component_specs

from imagepipe.components import example_gen_output, features, preprocessing, reports, sources
from imagepipe.data import png
from imagepipe.data.splits import split_assignment
from imagepipe.components.record import setting
from imagepipe.components.settings import FASHION_MNIST_INPUTS, DataSettings

NAME = "npz"
FILE = "images.npz"


@dataclasses.dataclass(frozen=True)
class NpzSettings(DataSettings):
    """Where the ``images.npz`` file is."""

    KIND = "npz data settings"

    source: str = setting(NAME, "data source", cli=False)
    data_dir: str = setting("", "folder of images.npz", metavar="DIR")


@dataclasses.dataclass(frozen=True)
class NpzIngestReport(reports.IngestReport):
    """How many images were read and where they went."""

    KIND = "npz ingest report"

    images: int
    splits: Dict[str, int]

    @property
    def split_totals(self) -> Dict[str, int]:
        return dict(self.splits)

    @property
    def kept_examples(self) -> int:
        return self.images

    def summary_lines(self, where: str = "", max_listed=None) -> List[str]:
        return [f"  npz data: {self.images} images; splits: "
                + ", ".join(f"{k} {v}" for k, v in self.splits.items())]


def read(data_dir: str) -> Tuple[np.ndarray, np.ndarray, Tuple[str, ...]]:
    with tf.io.gfile.GFile(os.path.join(data_dir, FILE), "rb") as f:
        arrays = np.load(f)
        return arrays["images"], arrays["labels"], tuple(str(n) for n in arrays["class_names"])


def _example(image: np.ndarray, label: int, name: str, example_id: str) -> tf.train.Example:
    def raw(value: bytes) -> tf.train.Feature:
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))
    return tf.train.Example(features=tf.train.Features(feature={
        features.IMAGE_KEY: raw(png.encode_gray(image)),
        features.LABEL_KEY: tf.train.Feature(int64_list=tf.train.Int64List(value=[label])),
        features.LABEL_NAME_KEY: raw(name.encode()),
        features.EXAMPLE_ID_KEY: raw(example_id.encode()),
    }))


class Executor(base_example_gen_executor.BaseExampleGenExecutor):
    """Reads images.npz and splits it by a seeded permutation."""

    def GetInputSourceToExamplePTransform(self) -> beam.PTransform:
        raise NotImplementedError("the npz ExampleGen splits in GenerateExamplesByBeam")

    def GenerateExamplesByBeam(self, pipeline, exec_properties: Dict[str, Any]):
        images, labels, names = read(exec_properties[standard_component_specs.INPUT_BASE_KEY])
        splits = example_gen_output.split_ratios(exec_properties, "the npz ExampleGen")
        assignment = split_assignment(len(labels), [size for _, size in splits], 1)
        self._report = NpzIngestReport(source=NAME, images=len(labels), splits={
            name: int(np.sum(assignment == i)) for i, (name, _) in enumerate(splits)})
        result = {}
        for index, (name, _) in enumerate(splits):
            rows = [(images[i], int(labels[i]), names[labels[i]], f"npz/{i}")
                    for i in np.flatnonzero(assignment == index)]
            result[name] = (pipeline | f"Create[{name}]" >> beam.Create(rows)
                            | f"Example[{name}]" >> beam.MapTuple(_example))
        return result

    def Do(self, input_dict, output_dict, exec_properties) -> None:
        super().Do(input_dict, output_dict, exec_properties)
        example_gen_output.write_report(output_dict, self._report)


def preprocessing_fn(inputs: Dict[str, tf.Tensor]) -> Dict[str, tf.Tensor]:
    """Decode and normalize like Fashion-MNIST; the labels are class ids already."""
    labels = tf.reshape(tf.cast(inputs[features.LABEL_KEY], tf.int64), [-1])
    preprocessing.measure_class_distribution(labels)
    return {features.transformed_name(features.IMAGE_KEY):
            preprocessing.decode_images(inputs[features.IMAGE_KEY]),
            features.transformed_name(features.LABEL_KEY): labels,
            features.transformed_name(features.EXAMPLE_ID_KEY):
            tf.reshape(inputs[features.EXAMPLE_ID_KEY], [-1])}


class NpzSource(sources.DataSource):
    """Images and labels in a NumPy file."""

    name = NAME
    target = NAME
    description = "images and labels in a NumPy images.npz"
    settings_type = NpzSettings
    report_type = NpzIngestReport
    preprocessing_fn = f"{__name__}.preprocessing_fn"
    model_inputs = FASHION_MNIST_INPUTS
    pipeline_name = "imagepipe-npz"
    serving_name = "npz"
    needs_data_dir = True

    def example_gen(self, settings: NpzSettings, split_ratios: Mapping[str, int]):
        return example_gen_component.FileBasedExampleGen(
            input_base=settings.data_dir,
            custom_executor_spec=executor_spec.BeamExecutorSpec(Executor),
            output_config=example_gen_output.output_config(split_ratios))

    def class_names(self, settings: NpzSettings) -> Tuple[str, ...]:
        return read(settings.data_dir)[2]

    def problems(self, settings: NpzSettings) -> List[str]:
        path = os.path.join(settings.data_dir, FILE)
        return [] if tf.io.gfile.exists(path) else [f"npz file not found: {path}"]


def register() -> None:
    """Registers the source once (the test module imports this one)."""
    if NAME not in sources.names():
        sources.register(NpzSource())


register()
