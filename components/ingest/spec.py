"""The Fashion-MNIST ExampleGens' specs: their execution parameters and the class map's encoding."""

from __future__ import annotations

import json
from typing import Dict, Mapping

from tfx.types import standard_component_specs
from tfx.types.component_spec import ExecutionParameter

from imagepipe.components import features

# Execution parameters of the Fashion-MNIST ExampleGens beyond TFX's own.
CLASS_MAP_KEY = "class_map"  # JSON {original label: class id}
SPLIT_SEED_KEY = "split_seed"
TFDS_DATA_DIR_KEY = "tfds_data_dir"
_EXTRA_PARAMETERS = {
    CLASS_MAP_KEY: ExecutionParameter(type=str),
    SPLIT_SEED_KEY: ExecutionParameter(type=int),
    TFDS_DATA_DIR_KEY: ExecutionParameter(type=str, optional=True),
}


class FashionMnistExampleGenSpec(standard_component_specs.FileBasedExampleGenSpec):
    """TFX's file-based ExampleGen spec plus the class map, split seed and TFDS folder."""

    PARAMETERS = {**standard_component_specs.FileBasedExampleGenSpec.PARAMETERS,
                  **_EXTRA_PARAMETERS}


class FashionMnistTfdsExampleGenSpec(standard_component_specs.QueryBasedExampleGenSpec):
    """TFX's query-based ExampleGen spec plus the class map, split seed and TFDS folder."""

    PARAMETERS = {**standard_component_specs.QueryBasedExampleGenSpec.PARAMETERS,
                  **_EXTRA_PARAMETERS}


def class_map_json(class_map: Mapping[int, int] = features.FASHION_MNIST_CLASS_MAP) -> str:
    """Serializes a class map for the ``class_map`` execution parameter.

    Args:
      class_map: original label -> class id.

    Returns:
      JSON with string keys in label order, e.g. ``{"0": 0, "1": 1, ...}``.
    """
    return json.dumps({str(k): int(v) for k, v in sorted(class_map.items())}, sort_keys=True)


def parse_class_map(class_map_json_text: str) -> Dict[int, int]:
    """Parses the JSON class map parameter (``{"0": 0, ...}``) into ints.

    Args:
      class_map_json_text: what :func:`class_map_json` wrote.

    Returns:
      original label -> class id.
    """
    return {int(label): int(target)
            for label, target in json.loads(class_map_json_text).items()}
