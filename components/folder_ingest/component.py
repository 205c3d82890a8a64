"""The folder ExampleGen component a pipeline builds: a photo folder under ``input_base``."""

from __future__ import annotations

from typing import Mapping

from tfx.components.example_gen import component as example_gen_component
from tfx.dsl.components.base import executor_spec
from tfx.proto import example_gen_pb2

from imagepipe.components import example_gen_output, features
from imagepipe.components.folder_ingest import driver, executor, spec
from imagepipe.data import class_map as class_map_lib
from imagepipe.data import images, photo_folder, spans


class FolderExampleGen(example_gen_component.FileBasedExampleGen):
    """Ingests a photo folder (class sub-folders, or a class map) under ``input_base``."""

    SPEC_CLASS = spec.FolderExampleGenSpec
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.Executor)
    DRIVER_CLASS = driver.FolderDriver

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
        component_spec = spec.FolderExampleGenSpec(
            input_base=input_base, input_config=input_config,
            class_map=class_map_lib.to_json(class_map_lib.validate(tuple(class_map))),
            split_seed=split_seed, max_pixels=max_pixels, max_side=max_side,
            max_file_bytes=limits.max_file_bytes, image_size=limits.image_size,
            follow_links=int(limits.follow_links), spans=window,
            **example_gen_output.output_arguments(split_ratios))
        super(example_gen_component.FileBasedExampleGen, self).__init__(spec=component_spec)

    def with_span_cache(self, directory: str) -> "FolderExampleGen":
        """Keeps each span's ingestion under ``directory`` (local or gs://) for later runs:
        a rerun after a new span arrives ingests only that span.

        Returns:
          The component itself, as ``with_id`` does.
        """
        self.exec_properties[spec.SPAN_CACHE_KEY] = directory
        return self
