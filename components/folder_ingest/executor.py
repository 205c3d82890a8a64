"""The folder ExampleGen's executor: plan the folder, write each split's examples in Beam.

Compiled pipeline specs name this class by path
(``imagepipe.components.folder_ingest.executor.Executor``).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import apache_beam as beam
import tensorflow as tf
from absl import logging
from tfx import types
from tfx.components.example_gen import base_example_gen_executor
from tfx.proto import example_gen_pb2
from tfx.types import standard_component_specs
from tfx.utils import proto_utils

from imagepipe.components import example_gen_output, features
from imagepipe.components.folder_ingest import examples, planning, span_cache, spec
from imagepipe.data import class_map as class_map_lib
from imagepipe.data import photo_folder, spans

_CHUNK = 16  # photos per Beam element, normalised in parallel threads
_NAME = "the folder ExampleGen"
SplitExamples = Dict[str, beam.pvalue.PCollection]  # split name -> its serialized tf.Examples


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
        """Plans the folder (scan, checks, splits), then builds each split's examples.

        With a span cache, spans found there are neither scanned nor read again:
        their examples are read from the cache; the others are staged into it.
        """
        root = exec_properties[standard_component_specs.INPUT_BASE_KEY]
        splits = example_gen_output.split_ratios(exec_properties, _NAME)
        window = window_of(exec_properties)
        class_map = class_map_lib.from_json(exec_properties[spec.CLASS_MAP_KEY])
        limits = scan_limits(exec_properties)
        self._spans = [number for number, _ in window]
        self._span_of = {relative: number for number, relative in window}
        self._cache = span_cache.SpanCache.of(exec_properties)
        entries = self._cache.lookup(root, window, class_map, limits) if self._cache else {}
        scans = planning.scan_window(
            root, class_map, int(exec_properties[spec.MAX_PIXELS_KEY]), limits, window,
            [name for name, _ in splits], {r: e.scan for r, e in entries.items() if e.scan})
        folder_scan, assignment, self._report = planning.split_window(
            root, scans, splits, int(exec_properties[spec.SPLIT_SEED_KEY]))
        self._reused, self._staged = _reuse_or_stage(self._cache, entries, scans, folder_scan)
        logging.info("Photo folder %s: %d entries seen, %d ingested, %d skipped %s; spans from "
                     "the cache: %s", root, folder_scan.seen, len(folder_scan.photos),
                     len(folder_scan.skipped), folder_scan.skipped_by_reason(),
                     sorted(self._reused) or "none")
        fresh = [p for p in folder_scan.photos if _span_folder(p.path) not in self._reused]
        result = _to_examples(pipeline, root, folder_scan.class_names, fresh, assignment,
                              splits, exec_properties, self._staged)
        for entry in self._reused.values():
            _add_cached(pipeline, entry, assignment, result)
        return result

    def Do(self, input_dict: Dict[str, List[types.Artifact]],
           output_dict: Dict[str, List[types.Artifact]], exec_properties: Dict[str, Any]) -> None:
        """Runs the ingestion, then writes its report, skips and spans on the artifact,
        and commits the newly ingested spans to the span cache."""
        super().Do(input_dict, output_dict, exec_properties)
        written = example_gen_output.write_report(output_dict, self._report)
        written.set_int_custom_property("num_skipped", self._report.skipped)
        written.set_string_custom_property(spec.SPANS_PROPERTY, ",".join(map(str, self._spans)))
        if self._cache:
            cached = sorted(self._span_of[relative] for relative in self._reused)
            written.set_string_custom_property(spec.CACHED_SPANS_PROPERTY,
                                               ",".join(map(str, cached)))
            committed = [self._cache.commit(entry) for entry in self._staged.values()]
            self._cache.prune([e.key for e in [*self._reused.values(), *committed]])


def _span_folder(path: str) -> str:
    """The first folder of a photo path: its span folder when the window has spans."""
    return path.split("/", 1)[0]


def _reuse_or_stage(cache: Optional[span_cache.SpanCache],
                    entries: Mapping[str, span_cache.Entry],
                    scans: Sequence[planning.SpanScan], folder_scan: photo_folder.FolderScan
                    ) -> Tuple[Dict[str, span_cache.Entry], Dict[str, span_cache.Entry]]:
    """(entries reused, entries staged for the spans ingested now), by span folder.

    A cached entry is reused when it holds every photo this window takes from
    its span (a photo an earlier span no longer holds may now be needed).
    """
    reused, staged = {}, {}
    own_scans = dict(scans)
    for relative, entry in entries.items():
        needed = {p.path for p in planning.span_photos(folder_scan, relative)}
        if entry.scan is not None and needed <= entry.example_ids:
            reused[relative] = entry
        elif cache is not None:
            staged[relative] = cache.staged(dataclasses.replace(
                entry, scan=own_scans[relative], example_ids=frozenset(needed)))
    return reused, staged


def _serialize(example: tf.train.Example) -> bytes:
    return example.SerializeToString(deterministic=True)


def _to_examples(pipeline: beam.Pipeline, root: str, class_names: Sequence[str],
                 photos: Sequence[photo_folder.Photo], assignment: Mapping[str, str],
                 splits: Sequence[Tuple[str, int]], exec_properties: Mapping[str, Any],
                 staged: Mapping[str, span_cache.Entry]) -> SplitExamples:
    """Each split's serialized tf.Examples of ``photos``, built in chunks; each staged
    span's examples are also written to its staging folder."""
    max_side = int(exec_properties[spec.MAX_SIDE_KEY])
    max_pixels = int(exec_properties[spec.MAX_PIXELS_KEY])
    class_ids = {name: i for i, name in enumerate(class_names)}
    result = {}
    for name, _ in splits:
        members = [(p, class_ids[p.class_name]) for p in photos if assignment[p.path] == name]
        chunks = [(root, list(chunk), max_side, max_pixels)
                  for chunk in examples.chunks(members, _CHUNK)]
        # reshuffle (the default) spreads the chunks over Beam's workers.
        result[name] = (pipeline
                        | f"Create[{name}]" >> beam.Create(chunks)
                        | f"ToExamples[{name}]" >> beam.FlatMap(examples.examples_of_chunk)
                        | f"Serialize[{name}]" >> beam.Map(_serialize))
    if staged:
        _stage(list(result.values()), staged)
    return result


def _example_id(record: bytes) -> str:
    example = tf.train.Example.FromString(record)
    return example.features.feature[features.EXAMPLE_ID_KEY].bytes_list.value[0].decode()


def _stage(built: Sequence[beam.pvalue.PCollection],
           staged: Mapping[str, span_cache.Entry]) -> None:
    """Writes each staged span's records (from every split) to its staging folder."""
    everything = tuple(built) | "FlattenForSpanCache" >> beam.Flatten()
    for relative, entry in staged.items():
        (everything
         | f"OfSpan[{relative}]" >> beam.Filter(
             lambda record, r=relative: _span_folder(_example_id(record)) == r)
         | f"StageSpan[{relative}]" >> beam.io.WriteToTFRecord(
             entry.records, num_shards=1, shard_name_template=""))


def _add_cached(pipeline: beam.Pipeline, entry: span_cache.Entry,
                assignment: Mapping[str, str], result: SplitExamples) -> None:
    """Adds a cached span's records to their splits (by example id); ids the window
    does not take (a later copy of an earlier span's photo) are left out."""
    names = list(result)
    index_of = {path: names.index(split) for path, split in assignment.items()}
    records = pipeline | f"ReadCached[{entry.relative}]" >> beam.io.ReadFromTFRecord(
        entry.records, coder=beam.coders.BytesCoder())
    parts = records | f"SplitCached[{entry.relative}]" >> beam.Partition(
        lambda record, _: index_of.get(_example_id(record), len(names)), len(names) + 1)
    for index, name in enumerate(names):
        result[name] = ((result[name], parts[index])
                        | f"With[{entry.relative}][{name}]" >> beam.Flatten())
