"""The Fashion-MNIST ExampleGens' executors: read, leave out unmapped labels, split, write.

Compiled pipeline specs name these classes by path
(``imagepipe.components.ingest.executor.Executor`` and ``.TfdsExecutor``).
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Dict, List, Sequence, Tuple

import apache_beam as beam
import numpy as np
from tfx import types
from tfx.components.example_gen import base_example_gen_executor
from tfx.types import standard_component_specs

from imagepipe.components import example_gen_output
from imagepipe.components.ingest import examples, report, spec
from imagepipe.data import fashion_mnist
from imagepipe.data.splits import split_assignment

SOURCE_IDX = "idx"
SOURCE_TFDS = "tfds"
_CHUNK = 2000  # images per Beam element
_NAME = "the Fashion-MNIST ExampleGen"

Reader = Callable[[], fashion_mnist.LabelledImages]
SplitExamples = Dict[str, beam.pvalue.PCollection]  # split name -> its tf.Examples

_READ_CACHE: Dict[Any, fashion_mnist.LabelledImages] = {}


def _cached_read(read: functools.partial) -> fashion_mnist.LabelledImages:
    """``read()``, once per process and run: the executor and in-process Beam workers share it."""
    key = (read.func.__module__, read.func.__name__, read.args)
    if key not in _READ_CACHE:
        _READ_CACHE.clear()  # one data set at a time
        _READ_CACHE[key] = read()
    return _READ_CACHE[key]


class Executor(base_example_gen_executor.BaseExampleGenExecutor):
    """Reads the IDX files, leaves out unmapped labels, splits by a seeded permutation."""

    def GetInputSourceToExamplePTransform(self) -> beam.PTransform:
        raise NotImplementedError(f"{_NAME} splits in GenerateExamplesByBeam")

    def GenerateExamplesByBeam(self, pipeline: beam.Pipeline,
                               exec_properties: Dict[str, Any]) -> SplitExamples:
        """Splits the kept images and turns each split's into tf.Examples in Beam."""
        data = self._read(exec_properties)
        class_map = spec.parse_class_map(exec_properties[spec.CLASS_MAP_KEY])
        splits = example_gen_output.split_ratios(exec_properties, _NAME)
        seed = int(exec_properties[spec.SPLIT_SEED_KEY])
        kept = np.isin(data.labels, list(class_map))
        assignment = split_assignment(int(kept.sum()), [size for _, size in splits], seed)
        self._report = report.build_report(self._source, data, class_map,
                                           [name for name, _ in splits], assignment, kept, seed)
        reader = functools.partial(_cached_read, self._reader(exec_properties))
        return _to_examples(pipeline, reader, np.flatnonzero(kept), assignment, splits)

    def Do(self, input_dict: Dict[str, List[types.Artifact]],
           output_dict: Dict[str, List[types.Artifact]], exec_properties: Dict[str, Any]) -> None:
        """Runs the ingestion, then writes its report and counts on the Examples artifact."""
        try:
            super().Do(input_dict, output_dict, exec_properties)
        finally:
            _READ_CACHE.clear()  # the next run reads the files again
        written = example_gen_output.write_report(output_dict, self._report)
        written.set_int_custom_property("num_left_out", sum(self._report.left_out.values()))

    @property
    def _source(self) -> str:
        return SOURCE_IDX

    def _reader(self, exec_properties: Dict[str, Any]) -> Reader:
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

    def _reader(self, exec_properties: Dict[str, Any]) -> Reader:
        return functools.partial(fashion_mnist.read_tfds,
                                 exec_properties.get(spec.TFDS_DATA_DIR_KEY) or None)


def _to_examples(pipeline: beam.Pipeline, reader: Reader, positions: np.ndarray,
                 assignment: np.ndarray, splits: Sequence[Tuple[str, int]]) -> SplitExamples:
    """Each split's tf.Examples, from chunks of its images' positions in the data."""
    result = {}
    for index, (name, _) in enumerate(splits):
        members = positions[assignment == index]
        chunks = [members[i:i + _CHUNK] for i in range(0, len(members), _CHUNK)]
        result[name] = (
            pipeline
            | f"Create[{name}]" >> beam.Create(chunks, reshuffle=True)
            | f"ToExamples[{name}]" >> beam.ParDo(examples.ChunkToExamples(reader)))
    return result
