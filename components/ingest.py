"""ExampleGen components that ingest Fashion-MNIST into tf.Examples.

Two sources give the same examples:

* ``FashionMnistExampleGen`` reads the canonical IDX files under
  ``input_base`` (local or ``gs://``). Its driver fingerprints those files, so
  a rerun on unchanged files reuses the cached output.
* ``FashionMnistTfdsExampleGen`` reads the TFDS ``fashion_mnist`` data set
  (downloaded when missing), for machines that are online.

Each example holds the image as PNG bytes, the original label, its name and a
stable id. Labels outside the class map (bag) are left out and counted. The
remaining examples are split by a seeded permutation into exact proportions
(70/15/15 by default), and ``ingest_report.json`` at the artifact's root
records what was kept, left out and where it went.
"""

from __future__ import annotations

import functools
import json
import os
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence

import apache_beam as beam
import numpy as np
import tensorflow as tf
from tfx import types
from tfx.components.example_gen import base_example_gen_executor
from tfx.components.example_gen import component as example_gen_component
from tfx.dsl.components.base import executor_spec
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils, standard_component_specs
from tfx.types.component_spec import ExecutionParameter
from tfx.utils import proto_utils

from imagepipe.components import features, reports
from imagepipe.data import fashion_mnist, png
from imagepipe.data.splits import split_assignment

SOURCE_IDX = "idx"
SOURCE_TFDS = "tfds"
_CHUNK = 2000  # images per Beam element

# Extra execution parameters of the Fashion-MNIST ExampleGens.
CLASS_MAP_KEY = "class_map"
SPLIT_SEED_KEY = "split_seed"
TFDS_DATA_DIR_KEY = "tfds_data_dir"
_EXTRA_PARAMETERS = {
    CLASS_MAP_KEY: ExecutionParameter(type=str),  # JSON {original label: class id}
    SPLIT_SEED_KEY: ExecutionParameter(type=int),
    TFDS_DATA_DIR_KEY: ExecutionParameter(type=str, optional=True),
}


def make_example(image: np.ndarray, label: int, example_id: str) -> tf.train.Example:
    """Builds the raw tf.Example of one Fashion-MNIST image."""
    def bytes_feature(value: bytes) -> tf.train.Feature:
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))

    return tf.train.Example(features=tf.train.Features(feature={
        features.IMAGE_KEY: bytes_feature(png.encode_gray(image)),
        features.LABEL_KEY: tf.train.Feature(int64_list=tf.train.Int64List(value=[label])),
        features.LABEL_NAME_KEY: bytes_feature(
            features.FASHION_MNIST_LABEL_NAMES[label].encode()),
        features.EXAMPLE_ID_KEY: bytes_feature(example_id.encode()),
    }))


class _ChunkToExamples(beam.DoFn):
    """Turns a chunk of image positions into tf.Examples, reading the data once per worker.

    Only the positions travel through Beam (a few kB per chunk): pickling the
    images themselves into the pipeline cost 13 of ExampleGen's 40 s (bz2).
    """

    def __init__(self, read: Callable[[], fashion_mnist.LabelledImages]):
        super().__init__()
        self._read = read
        self._data: Optional[fashion_mnist.LabelledImages] = None

    def setup(self):
        self._data = self._read()

    def process(self, positions: np.ndarray) -> Iterator[tf.train.Example]:
        data = self._data
        for position in positions:
            yield make_example(data.images[position], int(data.labels[position]),
                               data.ids[position])


def parse_class_map(class_map_json: str) -> Dict[int, int]:
    """Parses the JSON class map parameter ({"0": 0, ...}) into ints."""
    return {int(label): int(target) for label, target in json.loads(class_map_json).items()}


def class_map_json(class_map: Mapping[int, int] = features.FASHION_MNIST_CLASS_MAP) -> str:
    """Serializes a class map for the ``class_map`` execution parameter."""
    return json.dumps({str(k): int(v) for k, v in sorted(class_map.items())}, sort_keys=True)


def build_report(source: str, data: fashion_mnist.LabelledImages, class_map: Mapping[int, int],
                 split_names: Sequence[str], assignment: np.ndarray, kept: np.ndarray,
                 seed: int) -> reports.FashionMnistIngestReport:
    """Summarizes an ingestion: what was read, left out, and each split's counts."""
    names = features.FASHION_MNIST_LABEL_NAMES
    left_out = {names[label]: int(np.sum(data.labels == label))
                for label in sorted(set(range(len(names))) - set(class_map))}
    kept_labels = data.labels[kept]
    splits = {}
    for index, split in enumerate(split_names):
        in_split = kept_labels[assignment == index]
        splits[split] = reports.FashionMnistSplit(
            total=int(len(in_split)),
            per_label={names[label]: int(np.sum(in_split == label)) for label in sorted(class_map)},
            per_class={features.SUPER_CLASS_NAMES[target]: int(
                sum(np.sum(in_split == label) for label, t in class_map.items() if t == target))
                for target in sorted(set(class_map.values()))})
    return reports.FashionMnistIngestReport(
        source=source, images_read=int(len(data)), kept=int(kept.sum()), left_out=left_out,
        split_seed=seed, splits=splits)


def write_report(output_dict: Dict[str, List[types.Artifact]],
                 report: reports.IngestReport) -> types.Artifact:
    """Writes ``report`` as ``ingest_report.json`` at the Examples artifact's root.

    Returns:
      The Examples artifact.
    """
    examples = artifact_utils.get_single_instance(
        output_dict[standard_component_specs.EXAMPLES_KEY])
    report.write(os.path.join(examples.uri, reports.INGEST_REPORT_FILE))
    examples.set_int_custom_property("num_examples", report.kept_examples)
    return examples


_READ_CACHE: Dict[Any, fashion_mnist.LabelledImages] = {}


def _cached_read(read: functools.partial) -> fashion_mnist.LabelledImages:
    """``read()``, once per process and run: the executor and in-process Beam workers share it."""
    key = (read.func.__module__, read.func.__name__, read.args)
    if key not in _READ_CACHE:
        _READ_CACHE.clear()  # one data set at a time
        _READ_CACHE[key] = read()
    return _READ_CACHE[key]


class Executor(base_example_gen_executor.BaseExampleGenExecutor):
    """Reads Fashion-MNIST, leaves out unmapped labels, splits by a seeded permutation."""

    def GetInputSourceToExamplePTransform(self) -> beam.PTransform:
        raise NotImplementedError("the Fashion-MNIST ExampleGen splits in GenerateExamplesByBeam")

    def GenerateExamplesByBeam(self, pipeline: beam.Pipeline,
                               exec_properties: Dict[str, Any]) -> Dict[str, beam.pvalue.PCollection]:
        data = self._read(exec_properties)
        class_map = parse_class_map(exec_properties[CLASS_MAP_KEY])
        output_config = example_gen_pb2.Output()
        proto_utils.json_to_proto(exec_properties[standard_component_specs.OUTPUT_CONFIG_KEY],
                                  output_config)
        splits = output_config.split_config.splits
        if not splits:
            raise ValueError("the Fashion-MNIST ExampleGen needs output splits with hash_buckets "
                             "as split ratios, e.g. train:14 eval:3 test:3")
        seed = int(exec_properties[SPLIT_SEED_KEY])
        kept = np.isin(data.labels, list(class_map))
        assignment = split_assignment(int(kept.sum()), [s.hash_buckets for s in splits], seed)
        self._report = build_report(self._source, data, class_map, [s.name for s in splits],
                                    assignment, kept, seed)
        positions = np.flatnonzero(kept)  # the kept examples' positions in the data
        reader = functools.partial(_cached_read, self._reader(exec_properties))
        result = {}
        for index, split in enumerate(splits):
            members = positions[assignment == index]
            chunks = [members[i:i + _CHUNK] for i in range(0, len(members), _CHUNK)]
            result[split.name] = (
                pipeline
                | f"Create[{split.name}]" >> beam.Create(chunks, reshuffle=True)
                | f"ToExamples[{split.name}]" >> beam.ParDo(_ChunkToExamples(reader)))
        return result

    def Do(self, input_dict: Dict[str, List[types.Artifact]],
           output_dict: Dict[str, List[types.Artifact]], exec_properties: Dict[str, Any]) -> None:
        try:
            super().Do(input_dict, output_dict, exec_properties)
        finally:
            _READ_CACHE.clear()  # the next run reads the files again
        examples = write_report(output_dict, self._report)
        examples.set_int_custom_property("num_left_out", sum(self._report.left_out.values()))

    @property
    def _source(self) -> str:
        return SOURCE_IDX

    def _reader(self, exec_properties: Dict[str, Any]) -> Callable[[], fashion_mnist.LabelledImages]:
        """A picklable function that reads the data (in the executor and in each Beam worker)."""
        return functools.partial(fashion_mnist.read_idx_directory,
                                 exec_properties[standard_component_specs.INPUT_BASE_KEY])

    def _read(self, exec_properties: Dict[str, Any]) -> fashion_mnist.LabelledImages:
        return _cached_read(self._reader(exec_properties))


class TfdsExecutor(Executor):
    """The same ingestion, reading the TFDS ``fashion_mnist`` data set."""

    @property
    def _source(self) -> str:
        return SOURCE_TFDS

    def _reader(self, exec_properties: Dict[str, Any]) -> Callable[[], fashion_mnist.LabelledImages]:
        return functools.partial(fashion_mnist.read_tfds,
                                 exec_properties.get(TFDS_DATA_DIR_KEY) or None)


class FashionMnistExampleGenSpec(standard_component_specs.FileBasedExampleGenSpec):
    PARAMETERS = {**standard_component_specs.FileBasedExampleGenSpec.PARAMETERS,
                  **_EXTRA_PARAMETERS}


class FashionMnistTfdsExampleGenSpec(standard_component_specs.QueryBasedExampleGenSpec):
    PARAMETERS = {**standard_component_specs.QueryBasedExampleGenSpec.PARAMETERS,
                  **_EXTRA_PARAMETERS}


def output_config(split_ratios: Mapping[str, int]) -> example_gen_pb2.Output:
    """Returns the ExampleGen output config for split name -> relative size."""
    return example_gen_pb2.Output(split_config=example_gen_pb2.SplitConfig(splits=[
        example_gen_pb2.SplitConfig.Split(name=name, hash_buckets=int(size))
        for name, size in split_ratios.items()]))


class FashionMnistExampleGen(example_gen_component.FileBasedExampleGen):
    """Ingests the canonical Fashion-MNIST IDX files under ``input_base``."""

    SPEC_CLASS = FashionMnistExampleGenSpec
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(Executor)

    def __init__(self, input_base: str, split_ratios: Mapping[str, int], split_seed: int,
                 class_map: Mapping[int, int] = features.FASHION_MNIST_CLASS_MAP):
        """Creates the component.

        Args:
          input_base: folder of the four IDX files (gzip or not), local or gs://.
          split_ratios: split name -> relative size, e.g. train 14, eval 3, test 3.
          split_seed: seed of the split permutation.
          class_map: original label -> class id; other labels are left out.
        """
        input_config = example_gen_pb2.Input(splits=[
            example_gen_pb2.Input.Split(name="idx", pattern="*-ubyte*")])
        examples = types.Channel(type=types.standard_artifacts.Examples)
        spec = FashionMnistExampleGenSpec(
            input_base=input_base, input_config=input_config,
            output_config=output_config(split_ratios),
            output_data_format=example_gen_pb2.FORMAT_TF_EXAMPLE,
            output_file_format=example_gen_pb2.FORMAT_TFRECORDS_GZIP,
            class_map=class_map_json(class_map), split_seed=split_seed, examples=examples)
        super(example_gen_component.FileBasedExampleGen, self).__init__(spec=spec)


class FashionMnistTfdsExampleGen(example_gen_component.QueryBasedExampleGen):
    """Ingests the TFDS ``fashion_mnist`` data set (downloaded when missing)."""

    SPEC_CLASS = FashionMnistTfdsExampleGenSpec
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(TfdsExecutor)

    def __init__(self, split_ratios: Mapping[str, int], split_seed: int,
                 class_map: Mapping[int, int] = features.FASHION_MNIST_CLASS_MAP,
                 tfds_data_dir: str = ""):
        """Creates the component.

        Args:
          split_ratios: split name -> relative size, e.g. train 14, eval 3, test 3.
          split_seed: seed of the split permutation.
          class_map: original label -> class id; other labels are left out.
          tfds_data_dir: TFDS data directory; empty for TFDS's default.
        """
        input_config = example_gen_pb2.Input(splits=[
            example_gen_pb2.Input.Split(name="tfds", pattern=fashion_mnist.TFDS_NAME)])
        examples = types.Channel(type=types.standard_artifacts.Examples)
        spec = FashionMnistTfdsExampleGenSpec(
            input_config=input_config, output_config=output_config(split_ratios),
            output_data_format=example_gen_pb2.FORMAT_TF_EXAMPLE,
            output_file_format=example_gen_pb2.FORMAT_TFRECORDS_GZIP,
            class_map=class_map_json(class_map), split_seed=split_seed,
            tfds_data_dir=tfds_data_dir, examples=examples)
        super(example_gen_component.QueryBasedExampleGen, self).__init__(spec=spec)

