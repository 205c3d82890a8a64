"""The unlabelled-folder ExampleGen's driver: span 0, fingerprinted by the folder's listing."""

from __future__ import annotations

from typing import Iterable, Optional, Tuple

from tfx.components.example_gen import driver as example_gen_driver
from tfx.components.example_gen import input_processor
from tfx.proto import example_gen_pb2, range_config_pb2

from imagepipe.data import photo_folder


class ListingInputProcessor(input_processor.FileBasedInputProcessor):
    """Fingerprints the whole folder's listing (nested folders, links and all).

    TFX's own processor globs one pattern and stats every match, which fails
    on broken links and misses nested folders.
    """

    def resolve_span_and_version(self) -> Tuple[int, Optional[int]]:
        """Span 0, no version; the fingerprint is the folder listing's."""
        self._fingerprint = photo_folder.listing_fingerprint(self._input_base_uri)
        return 0, None

    def get_pattern_for_span_version(self, pattern: str, span: int,
                                     version: Optional[int]) -> str:
        """The pattern as it is; the executor walks the whole folder."""
        return pattern


class UnlabelledDriver(example_gen_driver.FileBasedDriver):
    """The file-based ExampleGen driver with :class:`ListingInputProcessor`."""

    def get_input_processor(self, splits: Iterable[example_gen_pb2.Input.Split],
                            range_config: Optional[range_config_pb2.RangeConfig] = None,
                            input_base_uri: Optional[str] = None
                            ) -> input_processor.InputProcessor:
        """A :class:`ListingInputProcessor` for the unlabelled folder ``input_base``."""
        if not input_base_uri:
            raise ValueError("the unlabelled ExampleGen needs input_base, the folder")
        return ListingInputProcessor(input_base_uri, splits, range_config)
