"""The unlabelled-folder ExampleGen's executor: list and check the folder, write its examples.

Compiled pipeline specs name this class by path
(``imagepipe.components.unlabelled_ingest.executor.Executor``).
"""

from __future__ import annotations

from typing import Any, Dict, List

import apache_beam as beam
from absl import logging
from tfx import types
from tfx.components.example_gen import base_example_gen_executor
from tfx.types import standard_component_specs

from imagepipe.components import example_gen_output
from imagepipe.components.folder_ingest.examples import chunks
from imagepipe.components.unlabelled_ingest import listing, report, spec

_CHUNK = 16  # photos per Beam element, normalised in parallel threads


class Executor(base_example_gen_executor.BaseExampleGenExecutor):
    """Lists, checks and writes an unlabelled folder; see the package docstring."""

    def GetInputSourceToExamplePTransform(self) -> beam.PTransform:
        raise NotImplementedError("the unlabelled ExampleGen writes in GenerateExamplesByBeam")

    def GenerateExamplesByBeam(self, pipeline: beam.Pipeline,
                               exec_properties: Dict[str, Any]
                               ) -> Dict[str, beam.pvalue.PCollection]:
        """Lists and checks the folder, then builds the ``unlabelled`` split's examples."""
        root = exec_properties[standard_component_specs.INPUT_BASE_KEY]
        max_side = int(exec_properties[spec.MAX_SIDE_KEY])
        max_pixels = int(exec_properties[spec.MAX_PIXELS_KEY])
        checked = listing.list_folder(root, int(exec_properties[spec.MAX_FILE_BYTES_KEY]),
                                      max_pixels, bool(int(exec_properties[spec.FOLLOW_LINKS_KEY])))
        self._report = report.UnlabelledIngestReport.from_listing(root, checked)
        logging.info("Unlabelled folder %s: %d entries seen, %d ingested, %d skipped %s", root,
                     checked.seen, len(checked.photos), len(checked.skipped),
                     self._report.skipped_by_reason)
        elements = [(list(chunk), max_side, max_pixels) for chunk in chunks(checked.photos, _CHUNK)]
        return {spec.SPLIT: (pipeline
                             | "CreateUnlabelled" >> beam.Create(elements)
                             | "ToExamples" >> beam.FlatMap(listing.examples_of_chunk))}

    def Do(self, input_dict: Dict[str, List[types.Artifact]],
           output_dict: Dict[str, List[types.Artifact]], exec_properties: Dict[str, Any]) -> None:
        """Runs the ingestion, then writes its report and the skipped count on the artifact."""
        super().Do(input_dict, output_dict, exec_properties)
        written = example_gen_output.write_report(output_dict, self._report)
        written.set_int_custom_property("num_skipped", self._report.skipped)
