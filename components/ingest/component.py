"""The Fashion-MNIST ExampleGen components a pipeline builds: IDX files or TFDS."""

from __future__ import annotations

from typing import Mapping

from tfx.components.example_gen import component as example_gen_component
from tfx.dsl.components.base import executor_spec
from tfx.proto import example_gen_pb2

from imagepipe.components import example_gen_output, features
from imagepipe.components.ingest import executor, spec
from imagepipe.data import fashion_mnist


class FashionMnistExampleGen(example_gen_component.FileBasedExampleGen):
    """Ingests the canonical Fashion-MNIST IDX files under ``input_base``."""

    SPEC_CLASS = spec.FashionMnistExampleGenSpec
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.Executor)

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
        component_spec = spec.FashionMnistExampleGenSpec(
            input_base=input_base, input_config=input_config,
            class_map=spec.class_map_json(class_map), split_seed=split_seed,
            **example_gen_output.output_arguments(split_ratios))
        super(example_gen_component.FileBasedExampleGen, self).__init__(spec=component_spec)


class FashionMnistTfdsExampleGen(example_gen_component.QueryBasedExampleGen):
    """Ingests the TFDS ``fashion_mnist`` data set (downloaded when missing)."""

    SPEC_CLASS = spec.FashionMnistTfdsExampleGenSpec
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.TfdsExecutor)

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
        component_spec = spec.FashionMnistTfdsExampleGenSpec(
            input_config=input_config, class_map=spec.class_map_json(class_map),
            split_seed=split_seed, tfds_data_dir=tfds_data_dir,
            **example_gen_output.output_arguments(split_ratios))
        super(example_gen_component.QueryBasedExampleGen, self).__init__(spec=component_spec)
