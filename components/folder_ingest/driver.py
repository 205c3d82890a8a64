"""The folder ExampleGen's driver: resolves the window of spans and fingerprints its folders."""

from __future__ import annotations

import json
from typing import Any, Dict, Iterable, List, Optional, Tuple

from tfx.components.example_gen import driver as example_gen_driver
from tfx.components.example_gen import input_processor
from tfx.proto import example_gen_pb2, range_config_pb2

from imagepipe.components.folder_ingest import spec
from imagepipe.data import photo_folder, spans


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
        """Creates the processor for ``window`` (all, latest or K) of ``input_base_uri``."""
        super().__init__(input_base_uri, splits, range_config)
        self._window_spec = window
        self._window: List[Tuple[int, str]] = []

    def resolve_span_and_version(self) -> Tuple[int, Optional[int]]:
        """Resolves the window now; returns its latest span and no version."""
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
        """Keeps the window the ``spans`` property names, then resolves as TFX does."""
        self._window_spec = exec_properties.get(spec.SPANS_KEY) or spans.ALL
        return super().resolve_exec_properties(exec_properties, pipeline_info, component_info)

    def get_input_processor(self, splits: Iterable[example_gen_pb2.Input.Split],
                            range_config: Optional[range_config_pb2.RangeConfig] = None,
                            input_base_uri: Optional[str] = None
                            ) -> input_processor.InputProcessor:
        """A :class:`FolderInputProcessor` for the photo folder ``input_base``."""
        if not input_base_uri:
            raise ValueError("the folder ExampleGen needs input_base, the photo folder")
        return FolderInputProcessor(input_base_uri, splits, range_config,
                                    getattr(self, "_window_spec", spans.ALL))
