"""Batch inference: every photo of an unlabelled folder classified by a pushed model.

``imagepipe classify-folder PATH --model-dir DIR`` writes one row per photo
(its path, the predicted class, the probability of each class) to a CSV file
and a JSON Lines file; a file that is not a usable image gets a row with the
reason instead, and is listed in a skipped file. Rows are appended and
flushed batch by batch, so a killed run is resumed by running it again.

Modules, one job each:

* :mod:`.photos`: listing the folder and reading a batch of photos;
* :mod:`.rows`: the output files, their resumption and the skipped list;
* :mod:`.runner`: the loop over the batches, the progress and the throughput.
"""

from imagepipe.pipeline.classify.photos import Entry, list_entries, read_batch
from imagepipe.pipeline.classify.rows import (
    CSV_SUFFIX, JSONL_SUFFIX, META_SUFFIX, SKIPPED_SUFFIX, OutputError, Row, RowWriter)
from imagepipe.pipeline.classify.runner import Outcome, classify_folder, model_version

__all__ = [
    "CSV_SUFFIX", "JSONL_SUFFIX", "META_SUFFIX", "SKIPPED_SUFFIX", "Entry", "Outcome",
    "OutputError", "Row", "RowWriter", "classify_folder", "list_entries", "model_version",
    "read_batch",
]
