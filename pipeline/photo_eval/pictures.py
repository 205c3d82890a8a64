"""The pictures of a photo evaluation: its confusion matrix and the worst photos' contact sheet."""

from __future__ import annotations

import io
import os
import textwrap
from typing import Optional

import numpy as np

from imagepipe.pipeline.experiments import report
from imagepipe.pipeline.photo_eval import metrics
from imagepipe.pipeline.photo_eval.evaluation import servable_bytes
from imagepipe.pipeline.photo_eval.models import EvaluatedModel


TITLE_WIDTH = 64  # characters a title line holds on the smallest matrix (3 classes)


def _title(evaluation: metrics.PhotoEvaluation) -> str:
    lines = [evaluation.model, f"class map: {evaluation.class_map}",
             f"accuracy {100 * evaluation.accuracy:.2f}%, balanced "
             f"{100 * evaluation.balanced_accuracy:.2f}% on {evaluation.total} photos"]
    return "\n".join(textwrap.fill(line, TITLE_WIDTH, break_on_hyphens=False) for line in lines)


def confusion_matrix_png(evaluation: metrics.PhotoEvaluation) -> bytes:
    """The confusion matrix (counts, rows: true class) as PNG bytes, titled with the model,
    its version, the class map and the accuracy."""
    return report.confusion_matrix(evaluation.confusion_matrix, evaluation.class_names,
                                   _title(evaluation), title_size=7)


def _displayable(normalized: np.ndarray, side: int):
    from PIL import Image  # pylint: disable=g-import-not-at-top
    image = normalized.astype(np.float64)
    low, high = float(image.min()), float(image.max())
    if low < 0.0 or high > 1.0:  # not a [0, 1] image (e.g. a ResNet's input): stretch it
        image = (image - low) / max(high - low, 1e-9)
    pixels = np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8)
    picture = Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels)
    return picture.convert("RGB").resize((side, side), Image.NEAREST)


def contact_sheet_png(evaluation: metrics.PhotoEvaluation, root: str, model: EvaluatedModel,
                      count: int = metrics.WORST_SHOWN, side: int = 112) -> Optional[bytes]:
    """The worst photos (lowest probability of their true class), each beside what the
    model saw, with true class, prediction and probability; None without photos."""
    from PIL import Image, ImageDraw, ImageOps  # pylint: disable=g-import-not-at-top
    worst = evaluation.worst(count)
    if not worst:
        return None
    encoded = [servable_bytes(os.path.join(root, p.path), p.image_format) for p in worst]
    seen = model.normalize(encoded) if model.normalize is not None else [None] * len(worst)
    columns, caption = 4, 30
    tile_w, tile_h = 2 * side + 12, side + caption
    sheet = Image.new("RGB", (columns * tile_w, -(-len(worst) // columns) * tile_h), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (photo, data, normalized) in enumerate(zip(worst, encoded, seen)):
        x, y = (i % columns) * tile_w, (i // columns) * tile_h
        with Image.open(io.BytesIO(data)) as opened:
            thumbnail = ImageOps.exif_transpose(opened).convert("RGB")
        thumbnail.thumbnail((side, side))
        sheet.paste(thumbnail, (x + 2, y + 2))
        if normalized is not None:
            sheet.paste(_displayable(np.asarray(normalized), side), (x + side + 6, y + 2))
        probability = evaluation.true_probability(photo)
        draw.text((x + 2, y + side + 3), f"{photo.true_class} -> {photo.predicted} "
                                         f"(p true {probability:.2f})", fill="black")
        draw.text((x + 2, y + side + 15), photo.path[-40:], fill="gray")
    buffer = io.BytesIO()
    sheet.save(buffer, format="PNG")
    return buffer.getvalue()
