"""ExampleGen for a photo folder: every file ingested or skipped with a reason.

``FolderExampleGen`` turns a folder of class sub-folders (or a class map that
groups sub-folders into classes) into tf.Examples, in three steps:

1. **Scan** (:func:`imagepipe.data.photo_folder.scan`, the same function as
   ``imagepipe inspect``): every entry under the folder is looked at; every
   image is decoded fully once with Pillow; bad entries (empty, truncated,
   not images, decompression bombs, unreadable, broken links and link loops,
   hidden and system files, names that are not UTF-8, the same content under
   two classes...) are skipped with a reason. Never fatal, never silent.
2. **Split**, stratified by class and deterministic (70/15/15 by default),
   with every class in every split. The run stops with a clear message only
   when a class has no usable image or too few for every split.
3. **Examples**, in Beam: each accepted file is read again (its content hash
   must not have changed), normalised (:func:`imagepipe.data.images.normalise`)
   and written with the features of :mod:`imagepipe.components.features`:
   ``image`` (normalised RGB, lossless PNG), ``image_original`` (the file's own bytes),
   ``image_format``, ``label`` (class id), ``label_name`` (class name),
   ``source_folder``, ``relative_path``, ``content_hash`` and ``example_id``
   (the relative path).

``ingest_report.json`` at the artifact's root lists what was seen, ingested
and skipped (every skipped path with its reason) and the split counts; the
artifact carries ``num_examples`` and ``num_skipped``. The driver fingerprints
the folder's listing (paths, sizes, times), so an unchanged folder reuses the
cached result and any change reruns ingestion.

**Spans** (:mod:`imagepipe.data.spans`): a folder of ``span-N`` sub-folders is
ingested as the window of spans the ``spans`` property names (all, latest or
the latest K), resolved by the driver at run time: the artifact's TFX ``span``
property is the window's latest span, its ``spans`` custom property lists
them all (e.g. ``1,2,3``), and paths (``relative_path``, ``example_id``) start
with ``span-N/``. Each span is split on its own, so a photo keeps its split
when later spans arrive. A folder without span folders is span 0, as before.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple

import apache_beam as beam
import tensorflow as tf
from absl import logging
from tfx import types
from tfx.components.example_gen import base_example_gen_executor
from tfx.components.example_gen import component as example_gen_component
from tfx.components.example_gen import driver as example_gen_driver
from tfx.components.example_gen import input_processor
from tfx.dsl.components.base import executor_spec
from tfx.proto import example_gen_pb2, range_config_pb2
from tfx.types import standard_component_specs
from tfx.types.component_spec import ExecutionParameter
from tfx.utils import proto_utils

from imagepipe.components import features, ingest, reports
from imagepipe.data import class_map as class_map_lib
from imagepipe.data import images, photo_folder, spans

CLASS_MAP_KEY = "class_map"  # JSON [[class, [folder, ...]], ...], in class id order
SPLIT_SEED_KEY = "split_seed"
MAX_PIXELS_KEY = "max_pixels"
MAX_SIDE_KEY = "max_side"
MAX_FILE_BYTES_KEY = "max_file_bytes"
IMAGE_SIZE_KEY = "image_size"
FOLLOW_LINKS_KEY = "follow_links"
SPANS_KEY = "spans"  # all, latest or K: the window of span-N folders
SPANS_PROPERTY = "spans"  # the examples' custom property: the window's spans, e.g. "1,2"
_EXTRA_PARAMETERS = {
    CLASS_MAP_KEY: ExecutionParameter(type=str),
    SPLIT_SEED_KEY: ExecutionParameter(type=int),
    MAX_PIXELS_KEY: ExecutionParameter(type=int),
    MAX_SIDE_KEY: ExecutionParameter(type=int),
    MAX_FILE_BYTES_KEY: ExecutionParameter(type=int),
    IMAGE_SIZE_KEY: ExecutionParameter(type=int),
    FOLLOW_LINKS_KEY: ExecutionParameter(type=int),  # 0 or 1
    SPANS_KEY: ExecutionParameter(type=str),
}
_CHUNK = 16  # photos per Beam element, normalised in parallel threads


class ChangedFileError(RuntimeError):
    """A file changed between the scan and the writing of its example."""


def _bytes_feature(value: bytes) -> tf.train.Feature:
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))


def make_example(photo: photo_folder.Photo, class_id: int, original: bytes,
                 normalised: bytes) -> tf.train.Example:
    """Builds the raw tf.Example of one photo."""
    return tf.train.Example(features=tf.train.Features(feature={
        features.IMAGE_KEY: _bytes_feature(normalised),
        features.ORIGINAL_IMAGE_KEY: _bytes_feature(original),
        features.ORIGINAL_FORMAT_KEY: _bytes_feature(photo.format.encode()),
        features.LABEL_KEY: tf.train.Feature(int64_list=tf.train.Int64List(value=[class_id])),
        features.LABEL_NAME_KEY: _bytes_feature(photo.class_name.encode()),
        features.SOURCE_FOLDER_KEY: _bytes_feature(photo.folder.encode()),
        features.RELATIVE_PATH_KEY: _bytes_feature(photo.path.encode()),
        features.CONTENT_HASH_KEY: _bytes_feature(photo.content_hash.encode()),
        features.EXAMPLE_ID_KEY: _bytes_feature(photo.path.encode()),
    }))


def _location(root: str, photo: photo_folder.Photo) -> str:
    return root.rstrip("/") + "/" + photo.path if "://" in root else os.path.join(
        root, *photo.path.split("/"))


def build_example(root: str, photo: photo_folder.Photo, class_id: int, max_side: int,
                  max_pixels: int) -> tf.train.Example:
    """Reads, checks and normalises one accepted photo into its tf.Example.

    Raises:
      ChangedFileError: the file's content is not what the scan saw.
    """
    location = _location(root, photo)
    changed = ChangedFileError(f"{location} changed while it was being ingested; rerun the "
                               f"pipeline")
    try:
        original = photo_folder.read_file(location, photo.size_bytes)
    except photo_folder.FileTooLarge:  # it grew: read no further than its scanned size
        raise changed from None
    except Exception as error:  # pylint: disable=broad-except
        raise ChangedFileError(f"{location}: could be read during the scan but not now "
                               f"({error}); rerun the pipeline") from None
    if photo_folder.content_hash(original) != photo.content_hash:
        raise changed
    normalised = images.stored_copy(original, max_side=max_side, max_pixels=max_pixels)
    return make_example(photo, class_id, original, normalised)


def _examples_of_chunk(chunk: Tuple[str, List[Tuple[photo_folder.Photo, int]], int, int]
                       ) -> Iterator[tf.train.Example]:
    root, photos, max_side, max_pixels = chunk
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        yield from pool.map(
            lambda item: build_example(root, item[0], item[1], max_side, max_pixels), photos)


def _chunks(items: Sequence, size: int) -> Iterable[Sequence]:
    return (items[i:i + size] for i in range(0, len(items), size))


def _raise_problems(root: str, folder_scan: photo_folder.FolderScan,
                   split_names: Sequence[str]) -> None:
    found = photo_folder.problems(folder_scan, split_names)
    if found:
        raise photo_folder.FolderError(
            f"photo folder {root} cannot be ingested:\n  " + "\n  ".join(found) +
            f"\n  ({folder_scan.seen} entries seen, {len(folder_scan.photos)} usable, "
            f"{len(folder_scan.skipped)} skipped; `imagepipe inspect {root}` lists them)")


def plan(root: str, class_map: class_map_lib.ClassMap, splits: Sequence[Tuple[str, int]],
         seed: int, max_pixels: int, limits: photo_folder.ScanLimits = photo_folder.ScanLimits(),
         window: Sequence[Tuple[int, str]] = ((spans.NO_SPANS, ""),)
         ) -> Tuple[photo_folder.FolderScan, Dict[str, str], reports.FolderIngestReport]:
    """Scans the window's span folders (within ``limits``) and assigns splits per span.

    Args:
      window: (span, folder relative to ``root``) pairs; ``(0, "")``: ``root`` itself.

    Returns:
      (scan, photo path -> split, report), paths relative to ``root``.

    Raises:
      photo_folder.FolderError: a class of a span has no usable image, or too
        few for every split; the message names the class and the skipped files.
    """
    split_names = [name for name, _ in splits]
    scans = []
    for _, relative in window:
        span_root = spans.join(root, relative)
        span_scan = photo_folder.scan(span_root, class_map, max_pixels=max_pixels, limits=limits)
        _raise_problems(span_root, span_scan, split_names)
        scans.append((relative, span_scan))
    folder_scan = spans.merge(root, scans)
    assignment: Dict[str, str] = {}
    for relative, _ in scans:
        members = [p for p in folder_scan.photos
                   if not relative or p.path.startswith(relative + "/")]
        assignment.update(photo_folder.assign_splits(members, splits, seed))
    report = reports.FolderIngestReport.from_scan(folder_scan, splits, seed, assignment)
    return folder_scan, assignment, report


def window_of(exec_properties: Mapping[str, Any]) -> List[Tuple[int, str]]:
    """The window the driver resolved (in the split pattern), else resolved now."""
    config = example_gen_pb2.Input()
    proto_utils.json_to_proto(exec_properties[standard_component_specs.INPUT_CONFIG_KEY], config)
    pattern = config.splits[0].pattern if config.splits else ""
    if pattern.startswith("["):
        return [(int(number), str(relative)) for number, relative in json.loads(pattern)]
    return spans.resolve(exec_properties[standard_component_specs.INPUT_BASE_KEY],
                         exec_properties.get(SPANS_KEY) or spans.ALL)


class Executor(base_example_gen_executor.BaseExampleGenExecutor):
    """Scans, splits and writes a photo folder; see the module docstring."""

    def GetInputSourceToExamplePTransform(self) -> beam.PTransform:
        raise NotImplementedError("the folder ExampleGen splits in GenerateExamplesByBeam")

    def GenerateExamplesByBeam(self, pipeline: beam.Pipeline,
                               exec_properties: Dict[str, Any]) -> Dict[str, beam.pvalue.PCollection]:
        root = exec_properties[standard_component_specs.INPUT_BASE_KEY]
        class_map = class_map_lib.from_json(exec_properties[CLASS_MAP_KEY])
        config = example_gen_pb2.Output()
        proto_utils.json_to_proto(exec_properties[standard_component_specs.OUTPUT_CONFIG_KEY],
                                  config)
        splits = [(s.name, s.hash_buckets) for s in config.split_config.splits]
        if not splits:
            raise ValueError("the folder ExampleGen needs output splits with hash_buckets as "
                             "split ratios, e.g. train:14 eval:3 test:3")
        max_pixels = int(exec_properties[MAX_PIXELS_KEY])
        max_side = int(exec_properties[MAX_SIDE_KEY])
        window = window_of(exec_properties)
        self._spans = [number for number, _ in window]
        folder_scan, assignment, self._report = plan(
            root, class_map, splits, int(exec_properties[SPLIT_SEED_KEY]), max_pixels,
            scan_limits(exec_properties), window)
        logging.info("Photo folder %s: %d entries seen, %d ingested, %d skipped %s", root,
                     folder_scan.seen, len(folder_scan.photos), len(folder_scan.skipped),
                     folder_scan.skipped_by_reason())
        class_ids = {name: i for i, name in enumerate(folder_scan.class_names)}
        result = {}
        for name, _ in splits:
            members = [(p, class_ids[p.class_name]) for p in folder_scan.photos
                       if assignment[p.path] == name]
            chunks = [(root, list(chunk), max_side, max_pixels)
                      for chunk in _chunks(members, _CHUNK)]
            # reshuffle (the default) spreads the chunks over Beam's workers.
            result[name] = (pipeline
                            | f"Create[{name}]" >> beam.Create(chunks)
                            | f"ToExamples[{name}]" >> beam.FlatMap(_examples_of_chunk))
        return result

    def Do(self, input_dict: Dict[str, List[types.Artifact]],
           output_dict: Dict[str, List[types.Artifact]], exec_properties: Dict[str, Any]) -> None:
        super().Do(input_dict, output_dict, exec_properties)
        examples = ingest.write_report(output_dict, self._report)
        examples.set_int_custom_property("num_skipped", self._report.skipped)
        examples.set_string_custom_property(SPANS_PROPERTY, ",".join(map(str, self._spans)))


def scan_limits(exec_properties: Mapping[str, Any]) -> photo_folder.ScanLimits:
    """The scan's limits from the component's execution properties."""
    return photo_folder.ScanLimits(
        max_file_bytes=int(exec_properties[MAX_FILE_BYTES_KEY]),
        image_size=int(exec_properties[IMAGE_SIZE_KEY]),
        max_side=int(exec_properties[MAX_SIDE_KEY]),
        follow_links=bool(int(exec_properties[FOLLOW_LINKS_KEY])))


class FolderInputProcessor(input_processor.FileBasedInputProcessor):
    """Resolves the window of spans and fingerprints its folders' listings.

    The span is the window's latest (0 without span folders); the fingerprint
    covers every span folder of the window (nested folders, links and all).
    TFX's own processor globs one pattern and stats every match, which fails
    on broken links and misses nested folders, and resolves one span only.
    """

    def __init__(self, input_base_uri: str, splits: Iterable[example_gen_pb2.Input.Split],
                 range_config: Optional[range_config_pb2.RangeConfig] = None,
                 window: str = spans.ALL):
        super().__init__(input_base_uri, splits, range_config)
        self._window_spec = window
        self._window: List[Tuple[int, str]] = []

    def resolve_span_and_version(self) -> Tuple[int, Optional[int]]:
        self._window = spans.resolve(self._input_base_uri, self._window_spec)
        self._fingerprint = "\n".join(  # a folder without spans: its listing's, as before
            (f"span {number}: " if relative else "") + photo_folder.listing_fingerprint(
                spans.join(self._input_base_uri, relative))
            for number, relative in self._window)
        return self._window[-1][0], None

    def get_pattern_for_span_version(self, pattern: str, span: int,
                                     version: Optional[int]) -> str:
        """The resolved window, as JSON [[span, folder], ...], for the executor."""
        return json.dumps(self._window)


class FolderDriver(example_gen_driver.FileBasedDriver):
    """The file-based ExampleGen driver with :class:`FolderInputProcessor`."""

    def resolve_exec_properties(self, exec_properties: Dict[str, Any], pipeline_info: Any,
                                component_info: Any) -> Dict[str, Any]:
        self._window_spec = exec_properties.get(SPANS_KEY) or spans.ALL
        return super().resolve_exec_properties(exec_properties, pipeline_info, component_info)

    def get_input_processor(self, splits: Iterable[example_gen_pb2.Input.Split],
                            range_config: Optional[range_config_pb2.RangeConfig] = None,
                            input_base_uri: Optional[str] = None
                            ) -> input_processor.InputProcessor:
        if not input_base_uri:
            raise ValueError("the folder ExampleGen needs input_base, the photo folder")
        return FolderInputProcessor(input_base_uri, splits, range_config,
                                    getattr(self, "_window_spec", spans.ALL))


class FolderExampleGenSpec(standard_component_specs.FileBasedExampleGenSpec):
    PARAMETERS = {**standard_component_specs.FileBasedExampleGenSpec.PARAMETERS,
                  **_EXTRA_PARAMETERS}


class FolderExampleGen(example_gen_component.FileBasedExampleGen):
    """Ingests a photo folder (class sub-folders, or a class map) under ``input_base``."""

    SPEC_CLASS = FolderExampleGenSpec
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(Executor)
    DRIVER_CLASS = FolderDriver

    def __init__(self, input_base: str, class_map: class_map_lib.ClassMap,
                 split_ratios: Mapping[str, int], split_seed: int,
                 max_pixels: int = images.DEFAULT_MAX_PIXELS,
                 max_side: int = images.DEFAULT_MAX_SIDE,
                 limits: photo_folder.ScanLimits = photo_folder.ScanLimits(
                     image_size=features.PHOTO_IMAGE_SIZE),
                 window: str = spans.ALL):
        """Creates the component.

        Args:
          input_base: the photo folder, local or gs://.
          class_map: (class name, (folder, ...)) pairs in class id order.
          split_ratios: split name -> relative size, e.g. train 14, eval 3, test 3.
          split_seed: seed of the stratified split.
          max_pixels: images with more pixels are skipped as decompression bombs.
          max_side: longer side of the normalised copy that Transform decodes.
          limits: file size cap, model input size (images too thin for it are
            skipped) and whether links leading outside the folder are followed;
            its ``max_side`` is ``max_side``'s.
          window: the spans ingested when ``input_base`` holds ``span-N`` folders:
            all, latest or K (the latest K); resolved when the run starts.
        """
        input_config = example_gen_pb2.Input(splits=[
            example_gen_pb2.Input.Split(name="folder", pattern="*")])
        examples = types.Channel(type=types.standard_artifacts.Examples)
        spec = FolderExampleGenSpec(
            input_base=input_base, input_config=input_config,
            output_config=ingest.output_config(split_ratios),
            output_data_format=example_gen_pb2.FORMAT_TF_EXAMPLE,
            output_file_format=example_gen_pb2.FORMAT_TFRECORDS_GZIP,
            class_map=class_map_lib.to_json(class_map_lib.validate(tuple(class_map))),
            split_seed=split_seed, max_pixels=max_pixels, max_side=max_side,
            max_file_bytes=limits.max_file_bytes, image_size=limits.image_size,
            follow_links=int(limits.follow_links), spans=window, examples=examples)
        super(example_gen_component.FileBasedExampleGen, self).__init__(spec=spec)
