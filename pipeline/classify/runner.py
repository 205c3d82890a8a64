"""The classify-folder loop: batches of photos through the model, rows out, progress shown.

Each batch is read and checked in a thread pool, the usable photos go
through the model's ``serving_default`` signature in one call (one by one
when the model refuses the batch, so one photo it cannot decode is skipped
as ``model_rejected`` instead of failing the others), and the batch's rows
are appended and flushed before the next batch starts.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import io
import os
import sys
import time
from typing import Callable, List, Optional, Sequence, TextIO

from imagepipe.data import folder_walk
from imagepipe.pipeline.classify import photos as photos_lib
from imagepipe.pipeline.classify.rows import Row, RowWriter
from imagepipe.pipeline.photo_eval import EvaluatedModel, model_class_names

MODEL_REJECTED = "model_rejected"
Progress = Callable[[int, int], None]


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What a classify-folder run did.

    Attributes:
      entries: entries of the folder (photos and skipped files).
      resumed: rows already finished by an earlier run, kept.
      classified: photos classified by this run.
      skipped: files this run skipped.
      seconds: the time this run spent on its batches.
      files: the output files.
    """

    entries: int
    resumed: int
    classified: int
    skipped: int
    seconds: float
    files: List[str]

    @property
    def photos_per_second(self) -> Optional[float]:
        """Photos classified per second of this run; None when none was."""
        return self.classified / self.seconds if self.classified and self.seconds > 0 else None


def model_version(model_dir: str, version: Optional[int]) -> str:
    """The SavedModel to use: ``model_dir/version``, or its latest version (None).

    Raises:
      FileNotFoundError: the version or the model is missing (the message names it).
    """
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    from imagepipe.components import features  # pylint: disable=g-import-not-at-top
    from imagepipe.pipeline.photo_eval import latest_version  # pylint: disable=g-import-not-at-top
    if version is None:
        return latest_version(model_dir)
    path = os.path.join(model_dir, str(version))
    if not tf.io.gfile.exists(os.path.join(path, "saved_model.pb")):
        known = ", ".join(map(str, features.serving_versions(model_dir))) or "none"
        raise FileNotFoundError(f"version {version} not found under {model_dir} (versions "
                                f"there: {known})")
    return path


def class_names(model: EvaluatedModel) -> List[str]:
    """The model's classes: its ``class_names`` signature, else learnt from one answer."""
    if model.class_names is not None:
        return list(model.class_names)
    from PIL import Image  # pylint: disable=g-import-not-at-top
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (128, 128, 128)).save(buffer, format="PNG")
    return model_class_names(model.predict([buffer.getvalue()]), [])


def _predict(model: EvaluatedModel, encoded: Sequence[bytes]) -> List[object]:
    """The model's answer per photo; the reason text where it refused a photo."""
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    if not encoded:
        return []
    try:
        return list(model.predict(list(encoded)))
    except tf.errors.InvalidArgumentError:  # a photo the graph cannot decode spoils the batch
        if len(encoded) == 1:
            return ["the model could not classify it (its graph refused the image)"]
        return [answer for image in encoded for answer in _predict(model, [image])]


def _batch_rows(model: EvaluatedModel, batch: Sequence[photos_lib.Entry],
                pool: concurrent.futures.Executor) -> List[Row]:
    read = photos_lib.read_batch(batch, pool)
    usable = [(entry, data) for entry, data in read if isinstance(data, bytes)]
    answers = dict(zip((entry.path for entry, _ in usable),
                       _predict(model, [data for _, data in usable])))
    rows = []
    for entry, data in read:
        answer = answers.get(entry.path)
        if isinstance(data, folder_walk.Skipped):
            rows.append(Row(entry.path, skipped=data.reason, detail=data.detail))
        elif isinstance(answer, str):
            rows.append(Row(entry.path, skipped=MODEL_REJECTED, detail=answer))
        else:
            rows.append(Row(entry.path, answer.class_name, tuple(answer.probabilities)))
    return rows


def classify_folder(root: str, model: EvaluatedModel, writer: RowWriter, batch_size: int = 32,
                    progress: Optional[Progress] = None) -> Outcome:
    """Classifies every entry under ``root`` not yet in ``writer``'s files.

    Args:
      root: the unlabelled photo folder, local or ``gs://``.
      model: the model (:func:`photo_eval.local_model`).
      writer: the output files; finished rows there are kept and not redone.
      batch_size: photos per call of the model, and per flush of the files.
      progress: called with (rows finished, entries) after each batch.

    Raises:
      FileNotFoundError: ``root`` is not a folder.
    """
    entries = photos_lib.list_entries(root)
    done = writer.resume()
    todo = [entry for entry in entries if entry.path not in done]
    finished, classified, skipped = len(entries) - len(todo), 0, 0
    start = time.monotonic()
    if progress:
        progress(finished, len(entries))
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for first in range(0, len(todo), batch_size):
            rows = _batch_rows(model, todo[first:first + batch_size], pool)
            writer.append(rows)
            skipped += sum(1 for row in rows if row.skipped)
            classified += sum(1 for row in rows if not row.skipped)
            finished += len(rows)
            if progress:
                progress(finished, len(entries))
    seconds = time.monotonic() - start
    return Outcome(len(entries), len(entries) - len(todo), classified, skipped, seconds,
                   writer.close())


class ProgressLine:
    """A progress bar on a terminal, one plain line per batch otherwise."""

    WIDTH = 30

    def __init__(self, stream: Optional[TextIO] = None):
        self.stream = stream or sys.stderr
        self.terminal = self.stream.isatty()
        self.start = time.monotonic()
        self.base: Optional[int] = None

    def __call__(self, finished: int, total: int) -> None:
        """Shows ``finished`` of ``total``; the first call gives what earlier runs finished."""
        if self.base is None:
            self.base = finished
        share = finished / total if total else 1.0
        rate = (finished - self.base) / max(time.monotonic() - self.start, 1e-9)
        if self.terminal:
            bar = "#" * int(self.WIDTH * share)
            self.stream.write(f"\r[{bar:<{self.WIDTH}}] {finished}/{total} "
                              f"({rate:.1f}/s)")
            if finished >= total:
                self.stream.write("\n")
        else:
            self.stream.write(f"classified {finished}/{total} ({100 * share:.0f}%)\n")
        self.stream.flush()
