"""The folder ExampleGen's executor: plan the folder, write each split's examples in Beam.

Compiled pipeline specs name this class by path
(``imagepipe.components.folder_ingest.executor.Executor``).
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Mapping, Sequence, Tuple

import apache_beam as beam
from absl import logging
from tfx import types
from tfx.components.example_gen import base_example_gen_executor
from tfx.proto import example_gen_pb2
from tfx.types import standard_component_specs
from tfx.utils import proto_utils

from imagepipe.components import example_gen_output
from imagepipe.components.folder_ingest import examples, planning, spec
from imagepipe.data import class_map as class_map_lib
from imagepipe.data import photo_folder, spans

_CHUNK = 16  # photos per Beam element, normalised in parallel threads
_NAME = "the folder ExampleGen"
SplitExamples = Dict[str, beam.pvalue.PCollection]  # split name -> its tf.Examples


def window_of(exec_properties: Mapping[str, Any]) -> List[Tuple[int, str]]:
    """The window the driver resolved (in the split pattern), else resolved now.

    Args:
      exec_properties: the executor's execution properties.

    Returns:
      (span, folder relative to ``input_base``) pairs, oldest span first.
    """
    config = example_gen_pb2.Input()
    proto_utils.json_to_proto(exec_properties[standard_component_specs.INPUT_CONFIG_KEY], config)
    pattern = config.splits[0].pattern if config.splits else ""
    if pattern.startswith("["):
        return [(int(number), str(relative)) for number, relative in json.loads(pattern)]
    return spans.resolve(exec_properties[standard_component_specs.INPUT_BASE_KEY],
                         exec_properties.get(spec.SPANS_KEY) or spans.ALL)


def scan_limits(exec_properties: Mapping[str, Any]) -> photo_folder.ScanLimits:
    """The scan's limits from the component's execution properties.

    Args:
      exec_properties: the component's (or executor's) execution properties.

    Returns:
      The file size cap, model input size, longer side and link policy.
    """
    return photo_folder.ScanLimits(
        max_file_bytes=int(exec_properties[spec.MAX_FILE_BYTES_KEY]),
        image_size=int(exec_properties[spec.IMAGE_SIZE_KEY]),
        max_side=int(exec_properties[spec.MAX_SIDE_KEY]),
        follow_links=bool(int(exec_properties[spec.FOLLOW_LINKS_KEY])))


class Executor(base_example_gen_executor.BaseExampleGenExecutor):
    """Scans, splits and writes a photo folder; see the package docstring."""

    def GetInputSourceToExamplePTransform(self) -> beam.PTransform:
        raise NotImplementedError(f"{_NAME} splits in GenerateExamplesByBeam")

    def GenerateExamplesByBeam(self, pipeline: beam.Pipeline,
                               exec_properties: Dict[str, Any]) -> SplitExamples:
        """Plans the folder (scan, checks, splits), then builds each split's examples."""
        root = exec_properties[standard_component_specs.INPUT_BASE_KEY]
        splits = example_gen_output.split_ratios(exec_properties, _NAME)
        window = window_of(exec_properties)
        self._spans = [number for number, _ in window]
        folder_scan, assignment, self._report = planning.plan(
            root, class_map_lib.from_json(exec_properties[spec.CLASS_MAP_KEY]), splits,
            int(exec_properties[spec.SPLIT_SEED_KEY]), int(exec_properties[spec.MAX_PIXELS_KEY]),
            scan_limits(exec_properties), window)
        logging.info("Photo folder %s: %d entries seen, %d ingested, %d skipped %s", root,
                     folder_scan.seen, len(folder_scan.photos), len(folder_scan.skipped),
                     folder_scan.skipped_by_reason())
        return _to_examples(pipeline, root, folder_scan, assignment, splits, exec_properties)

    def Do(self, input_dict: Dict[str, List[types.Artifact]],
           output_dict: Dict[str, List[types.Artifact]], exec_properties: Dict[str, Any]) -> None:
        """Runs the ingestion, then writes its report, skips and spans on the artifact."""
        super().Do(input_dict, output_dict, exec_properties)
        written = example_gen_output.write_report(output_dict, self._report)
        written.set_int_custom_property("num_skipped", self._report.skipped)
        written.set_string_custom_property(spec.SPANS_PROPERTY, ",".join(map(str, self._spans)))


def _to_examples(pipeline: beam.Pipeline, root: str, folder_scan: photo_folder.FolderScan,
                 assignment: Mapping[str, str], splits: Sequence[Tuple[str, int]],
                 exec_properties: Mapping[str, Any]) -> SplitExamples:
    """Each split's tf.Examples, from chunks of its photos and their class ids."""
    max_side = int(exec_properties[spec.MAX_SIDE_KEY])
    max_pixels = int(exec_properties[spec.MAX_PIXELS_KEY])
    class_ids = {name: i for i, name in enumerate(folder_scan.class_names)}
    result = {}
    for name, _ in splits:
        members = [(p, class_ids[p.class_name]) for p in folder_scan.photos
                   if assignment[p.path] == name]
        chunks = [(root, list(chunk), max_side, max_pixels)
                  for chunk in examples.chunks(members, _CHUNK)]
        # reshuffle (the default) spreads the chunks over Beam's workers.
        result[name] = (pipeline
                        | f"Create[{name}]" >> beam.Create(chunks)
                        | f"ToExamples[{name}]" >> beam.FlatMap(examples.examples_of_chunk))
    return result
