"""The unlabelled-folder ExampleGen's spec: its limits beyond TFX's file-based parameters."""

from __future__ import annotations

from tfx.types import standard_component_specs
from tfx.types.component_spec import ExecutionParameter

SPLIT = "unlabelled"  # the one split of the examples
MAX_PIXELS_KEY = "max_pixels"
MAX_SIDE_KEY = "max_side"
MAX_FILE_BYTES_KEY = "max_file_bytes"
FOLLOW_LINKS_KEY = "follow_links"
_EXTRA_PARAMETERS = {
    MAX_PIXELS_KEY: ExecutionParameter(type=int),
    MAX_SIDE_KEY: ExecutionParameter(type=int),
    MAX_FILE_BYTES_KEY: ExecutionParameter(type=int),
    FOLLOW_LINKS_KEY: ExecutionParameter(type=int),  # 0 or 1
}


class UnlabelledExampleGenSpec(standard_component_specs.FileBasedExampleGenSpec):
    """TFX's file-based ExampleGen spec plus the pixel, side, file size and link limits."""

    PARAMETERS = {**standard_component_specs.FileBasedExampleGenSpec.PARAMETERS,
                  **_EXTRA_PARAMETERS}
