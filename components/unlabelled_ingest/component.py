"""The unlabelled-folder ExampleGen component a pipeline builds: a folder under ``input_base``."""

from __future__ import annotations

from tfx.components.example_gen import component as example_gen_component
from tfx.dsl.components.base import executor_spec
from tfx.proto import example_gen_pb2

from imagepipe.components import example_gen_output
from imagepipe.components.unlabelled_ingest import driver, executor, spec
from imagepipe.data import folder_walk, images


class UnlabelledExampleGen(example_gen_component.FileBasedExampleGen):
    """Ingests every photo under ``input_base`` into one split, ``unlabelled``."""

    SPEC_CLASS = spec.UnlabelledExampleGenSpec
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.Executor)
    DRIVER_CLASS = driver.UnlabelledDriver

    def __init__(self, input_base: str, max_pixels: int = images.DEFAULT_MAX_PIXELS,
                 max_side: int = images.DEFAULT_MAX_SIDE,
                 max_file_bytes: int = folder_walk.DEFAULT_MAX_FILE_MB * 2**20,
                 follow_links: bool = False):
        """Creates the component.

        Args:
          input_base: the unlabelled folder, local or gs://.
          max_pixels: images with more pixels are skipped as decompression bombs.
          max_side: longer side of the normalised copy the model decodes; the
            folder ExampleGen's, so that both are classified alike.
          max_file_bytes: larger files are skipped unread.
          follow_links: follow symbolic links leading outside the folder.
        """
        input_config = example_gen_pb2.Input(splits=[
            example_gen_pb2.Input.Split(name="folder", pattern="*")])
        component_spec = spec.UnlabelledExampleGenSpec(
            input_base=input_base, input_config=input_config, max_pixels=max_pixels,
            max_side=max_side, max_file_bytes=max_file_bytes, follow_links=int(follow_links),
            **example_gen_output.output_arguments({spec.SPLIT: 1}))
        super(example_gen_component.FileBasedExampleGen, self).__init__(spec=component_spec)
