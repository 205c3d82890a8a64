"""The output side every imagepipe ExampleGen shares: its split ratios and its ingest report.

A source's ExampleGen writes tf.Examples as gzipped TFRecords, carries its
split ratios in TFX's ``output_config`` (each split's ``hash_buckets`` is its
relative size, e.g. train 14, eval 3, test 3) and writes ``ingest_report.json``
at the root of its Examples artifact. The Fashion-MNIST and folder ExampleGens
use these functions, and so can a source a user adds.
"""

from __future__ import annotations

import os
from typing import Any, Dict, List, Mapping, Tuple

from tfx import types
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import proto_utils

from imagepipe.components import reports


def output_config(split_ratios: Mapping[str, int]) -> example_gen_pb2.Output:
    """Returns the ExampleGen output config for split name -> relative size."""
    return example_gen_pb2.Output(split_config=example_gen_pb2.SplitConfig(splits=[
        example_gen_pb2.SplitConfig.Split(name=name, hash_buckets=int(size))
        for name, size in split_ratios.items()]))


def output_arguments(split_ratios: Mapping[str, int]) -> Dict[str, Any]:
    """The spec arguments of an ExampleGen's output, for split name -> relative size.

    Returns:
      ``output_config``, ``output_data_format`` (tf.Example),
      ``output_file_format`` (gzipped TFRecords) and the ``examples`` channel.
    """
    return dict(output_config=output_config(split_ratios),
                output_data_format=example_gen_pb2.FORMAT_TF_EXAMPLE,
                output_file_format=example_gen_pb2.FORMAT_TFRECORDS_GZIP,
                examples=types.Channel(type=types.standard_artifacts.Examples))


def split_ratios(exec_properties: Mapping[str, Any], component: str) -> List[Tuple[str, int]]:
    """Reads the split ratios back from an ExampleGen's execution properties.

    Args:
      exec_properties: the executor's execution properties (``output_config``
        as JSON).
      component: the ExampleGen's name, for the error message.

    Returns:
      (split name, relative size) pairs, in the output config's order.

    Raises:
      ValueError: the output config names no split.
    """
    config = example_gen_pb2.Output()
    proto_utils.json_to_proto(exec_properties[standard_component_specs.OUTPUT_CONFIG_KEY],
                              config)
    ratios = [(split.name, split.hash_buckets) for split in config.split_config.splits]
    if not ratios:
        raise ValueError(f"{component} needs output splits with hash_buckets as split ratios, "
                         f"e.g. train:14 eval:3 test:3")
    return ratios


def write_report(output_dict: Dict[str, List[types.Artifact]],
                 report: reports.IngestReport) -> types.Artifact:
    """Writes ``report`` as ``ingest_report.json`` at the Examples artifact's root.

    Args:
      output_dict: the executor's outputs, holding one Examples artifact.
      report: what the ingestion read, kept and left out.

    Returns:
      The Examples artifact, its ``num_examples`` property set.
    """
    examples = artifact_utils.get_single_instance(
        output_dict[standard_component_specs.EXAMPLES_KEY])
    report.write(os.path.join(examples.uri, reports.INGEST_REPORT_FILE))
    examples.set_int_custom_property("num_examples", report.kept_examples)
    return examples
