"""The folder ExampleGen's spec: its execution parameters beyond TFX's file-based ones."""

from __future__ import annotations

from tfx.types import standard_component_specs
from tfx.types.component_spec import ExecutionParameter

CLASS_MAP_KEY = "class_map"  # JSON [[class, [folder, ...]], ...], in class id order
SPLIT_SEED_KEY = "split_seed"
MAX_PIXELS_KEY = "max_pixels"
MAX_SIDE_KEY = "max_side"
MAX_FILE_BYTES_KEY = "max_file_bytes"
IMAGE_SIZE_KEY = "image_size"
FOLLOW_LINKS_KEY = "follow_links"
SPANS_KEY = "spans"  # all, latest or K: the window of span-N folders
SPANS_PROPERTY = "spans"  # the examples' custom property: the window's spans, e.g. "1,2"
SPAN_CACHE_KEY = "span_cache"  # where each span's ingestion is kept for the next run; "": none
CACHED_SPANS_PROPERTY = "spans_from_cache"  # the window's spans whose examples were reused
_EXTRA_PARAMETERS = {
    CLASS_MAP_KEY: ExecutionParameter(type=str),
    SPLIT_SEED_KEY: ExecutionParameter(type=int),
    MAX_PIXELS_KEY: ExecutionParameter(type=int),
    MAX_SIDE_KEY: ExecutionParameter(type=int),
    MAX_FILE_BYTES_KEY: ExecutionParameter(type=int),
    IMAGE_SIZE_KEY: ExecutionParameter(type=int),
    FOLLOW_LINKS_KEY: ExecutionParameter(type=int),  # 0 or 1
    SPANS_KEY: ExecutionParameter(type=str),
    SPAN_CACHE_KEY: ExecutionParameter(type=str, optional=True),
}


class FolderExampleGenSpec(standard_component_specs.FileBasedExampleGenSpec):
    """TFX's file-based ExampleGen spec plus the class map, split seed, limits and spans."""

    PARAMETERS = {**standard_component_specs.FileBasedExampleGenSpec.PARAMETERS,
                  **_EXTRA_PARAMETERS}
