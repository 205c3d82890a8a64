"""The Fashion-MNIST ExampleGens' executors: read, leave out unmapped labels, split, write.

Compiled pipeline specs name these classes by path
(``imagepipe.components.ingest.executor.Executor`` and ``.TfdsExecutor``).
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Dict, List, NamedTuple, Sequence, Tuple

import apache_beam as beam
import numpy as np
import tensorflow as tf
from tfx import types
from tfx.components.example_gen import base_example_gen_executor
from tfx.components.example_gen import write_split
from tfx.components.util import examples_utils
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils, standard_component_specs

from imagepipe.components import example_gen_output, reports
from imagepipe.components.ingest import examples, report, spec
from imagepipe.data import fashion_mnist
from imagepipe.data.splits import split_assignment

SOURCE_IDX = "idx"
SOURCE_TFDS = "tfds"
_CHUNK = 2000  # images per Beam element
_NAME = "the Fashion-MNIST ExampleGen"

Reader = Callable[[], fashion_mnist.LabelledImages]

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
        raise NotImplementedError(f"{_NAME} writes its splits in Do")

    def Do(self, input_dict: Dict[str, List[types.Artifact]],
           output_dict: Dict[str, List[types.Artifact]], exec_properties: Dict[str, Any]) -> None:
        """Splits the kept images, writes each split's tf.Examples, then the report and counts.

        The base ExampleGen's bookkeeping (split names, payload and file format)
        with the writing done chunk by chunk (:class:`examples.ChunkToShard`)
        instead of through its per-example reshuffle and sink.
        """
        self._log_startup(input_dict, output_dict, exec_properties)
        artifact = artifact_utils.get_single_instance(
            output_dict[standard_component_specs.EXAMPLES_KEY])
        try:
            plan = self._plan(exec_properties)
            artifact.split_names = artifact_utils.encode_split_names(
                [name for name, _ in plan.splits])
            with self._make_beam_pipeline() as pipeline:
                _write_splits(pipeline, plan, artifact)
        finally:
            _READ_CACHE.clear()  # the next run reads the files again
        examples_utils.set_payload_format(artifact, exec_properties.get(
            standard_component_specs.OUTPUT_DATA_FORMAT_KEY, example_gen_pb2.FORMAT_TF_EXAMPLE))
        examples_utils.set_file_format(artifact, write_split.to_file_format_str(
            exec_properties.get(standard_component_specs.OUTPUT_FILE_FORMAT_KEY,
                                example_gen_pb2.FORMAT_TFRECORDS_GZIP)))
        written = example_gen_output.write_report(output_dict, plan.report)
        written.set_int_custom_property("num_left_out", sum(plan.report.left_out.values()))

    def _plan(self, exec_properties: Dict[str, Any]) -> _Plan:
        """Reads the data, leaves out unmapped labels and assigns each kept image a split."""
        data = self._read(exec_properties)
        class_map = spec.parse_class_map(exec_properties[spec.CLASS_MAP_KEY])
        splits = example_gen_output.split_ratios(exec_properties, _NAME)
        seed = int(exec_properties[spec.SPLIT_SEED_KEY])
        kept = np.isin(data.labels, list(class_map))
        assignment = split_assignment(int(kept.sum()), [size for _, size in splits], seed)
        reader = functools.partial(_cached_read, self._reader(exec_properties))
        return _Plan(reader, np.flatnonzero(kept), assignment, splits,
                     report.build_report(self._source, data, class_map,
                                         [name for name, _ in splits], assignment, kept, seed))

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


class _Plan(NamedTuple):
    """What to write: the data's reader, the kept positions, each one's split, the splits; and
    the ingest report that says so."""

    reader: Reader
    positions: np.ndarray
    assignment: np.ndarray
    splits: Sequence[Tuple[str, int]]
    report: reports.IngestReport


def _write_splits(pipeline: beam.Pipeline, plan: _Plan, artifact: types.Artifact) -> None:
    """Each split's tf.Examples, a shard per chunk of its images' positions in the data."""
    for index, (name, _) in enumerate(plan.splits):
        members = plan.positions[plan.assignment == index]
        # An empty split still gets its (empty) shard, as TFX's writer would.
        chunks = [members[i:i + _CHUNK] for i in range(0, len(members), _CHUNK)] or [members]
        split_uri = artifact_utils.get_split_uri([artifact], name)
        tf.io.gfile.makedirs(split_uri)
        _ = (pipeline
             | f"Create[{name}]" >> beam.Create(list(enumerate(chunks)), reshuffle=True)
             | f"WriteShards[{name}]" >> beam.ParDo(
                 examples.ChunkToShard(plan.reader, split_uri, len(chunks))))
