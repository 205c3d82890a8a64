"""Running models over a labelled photo folder: each photo read once, every model's answers kept.

The folder is read like any photo folder (one sub-folder per class, or a
class map grouping sub-folders); every photo goes through each model's own
``serving_default`` signature, so its Transform's normalization is what runs
on it. Photos in formats the served graph cannot decode (WebP, TIFF, CMYK or
16-bit images) are converted to PNG on the way, as a client would; with
several models each batch is read and converted once and given to all.
"""

from __future__ import annotations

import io
import os
from typing import List, Optional, Sequence

import numpy as np

from imagepipe.data import class_map as class_map_lib
from imagepipe.data import photo_folder
from imagepipe.pipeline.photo_eval import metrics
from imagepipe.pipeline.photo_eval.models import EvaluatedModel, model_class_names
from imagepipe.serving.client import Prediction

_SERVABLE_FORMATS = ("JPEG", "PNG", "GIF", "BMP")


def servable_bytes(path: str, image_format: str) -> bytes:
    """Returns a photo's bytes in a format the served graph decodes (PNG when converted)."""
    return servable(photo_folder.read_file(path), image_format)


def servable(data: bytes, image_format: str) -> bytes:
    """``data`` as it is when the served graph decodes ``image_format``, else as a PNG."""
    if image_format in _SERVABLE_FORMATS:
        return data
    from PIL import Image, ImageOps  # pylint: disable=g-import-not-at-top
    image = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="PNG")
    return buffer.getvalue()


class _Answers:
    """What one model answered, photo by photo."""

    def __init__(self, model: EvaluatedModel):
        self.model = model
        self.predictions: List[Prediction] = []
        self.lit: List[Optional[float]] = []

    def add(self, encoded: List[bytes]) -> None:
        self.predictions.extend(self.model.predict(encoded))
        if self.model.normalize is None:
            self.lit.extend([None] * len(encoded))
        else:
            self.lit.extend(metrics.lit_fraction(image)
                            for image in self.model.normalize(encoded))


def evaluate_all(root: str, models: Sequence[EvaluatedModel],
                 class_map_path: Optional[str] = None,
                 batch_size: int = 32) -> List[metrics.PhotoEvaluation]:
    """Classifies every usable photo under ``root`` with each model; one evaluation per model.

    Args:
      root: the labelled photo folder.
      models: the models (:func:`local_model`, :func:`served_model`).
      class_map_path: JSON/YAML class map grouping sub-folders into classes.
      batch_size: images per call of a model.

    Raises:
      ValueError: a class of the folder is not one of a model's classes (the
        message names it).
    """
    class_map = class_map_lib.load(class_map_path) if class_map_path else None
    scan = photo_folder.scan(root, class_map)
    for model in models:
        if model.class_names is not None:
            model_class_names([], scan.class_names, model.class_names)  # fail before any work
    answers = [_Answers(model) for model in models]
    for start in range(0, len(scan.photos), batch_size):
        batch = scan.photos[start:start + batch_size]
        encoded = [servable_bytes(os.path.join(root, p.path), p.format) for p in batch]
        for answer in answers:
            answer.add(encoded)
    return [_evaluation(scan, answer, class_map_path) for answer in answers]


def evaluate(root: str, model: EvaluatedModel, class_map_path: Optional[str] = None,
             batch_size: int = 32) -> metrics.PhotoEvaluation:
    """One model on the photos under ``root`` (:func:`evaluate_all` with one model)."""
    return evaluate_all(root, [model], class_map_path, batch_size)[0]


def _evaluation(scan: photo_folder.FolderScan, answers: _Answers,
                class_map_path: Optional[str]) -> metrics.PhotoEvaluation:
    """The confusion matrix and the rows per photo of one model's answers."""
    names = model_class_names(answers.predictions, scan.class_names, answers.model.class_names)
    index = {name: i for i, name in enumerate(names)}
    matrix = np.zeros((len(names), len(names)), np.int64)
    results = []
    for photo, prediction, lit_share in zip(scan.photos, answers.predictions, answers.lit):
        matrix[index[photo.class_name], prediction.class_id] += 1
        results.append(metrics.PhotoResult(
            photo.path, photo.class_name, names[prediction.class_id],
            tuple(float(p) for p in prediction.probabilities), lit_share, photo.format,
            photo.folder))
    return metrics.PhotoEvaluation(
        names, matrix.tolist(), [(s.path, s.reason) for s in scan.skipped], results,
        model=answers.model.description,
        class_map=class_map_path or metrics.ONE_CLASS_PER_FOLDER,
        missing_folders=tuple(scan.missing_folders), label=answers.model.label)
