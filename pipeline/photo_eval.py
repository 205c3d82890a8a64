"""Evaluation of a Fashion-MNIST model on a labelled folder of real photos.

The folder is read like any photo folder (one sub-folder per class, or a
class map grouping sub-folders); every photo goes through the model's own
``serving_default`` signature -- the served model over REST or a local
SavedModel in process -- so the Transform's normalization is what runs on it.
Photos in formats the served graph cannot decode (WebP, TIFF, CMYK or
16-bit images) are converted to PNG on the way, as a client would.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from imagepipe.data import class_map as class_map_lib
from imagepipe.data import photo_folder

Predictor = Callable[[List[bytes]], List[str]]  # encoded images -> predicted class names
_SERVABLE_FORMATS = ("JPEG", "PNG", "GIF", "BMP")
REPORT_JSON = "photo_evaluation.json"
CONFUSION_PNG = "confusion_matrix.png"


@dataclasses.dataclass
class PhotoEvaluation:
    """Metrics of a model on a photo folder."""

    class_names: List[str]
    confusion_matrix: List[List[int]]  # rows: true class, columns: predicted
    skipped: List[Tuple[str, str]]  # (path, reason) of photos not evaluated

    @property
    def total(self) -> int:
        return int(np.sum(self.confusion_matrix))

    @property
    def accuracy(self) -> float:
        matrix = np.asarray(self.confusion_matrix)
        return float(np.trace(matrix) / max(matrix.sum(), 1))

    @property
    def recall(self) -> Dict[str, float]:
        matrix = np.asarray(self.confusion_matrix)
        rows = matrix.sum(axis=1)
        return {name: float(matrix[i, i] / rows[i]) for i, name in enumerate(self.class_names)
                if rows[i]}

    @property
    def balanced_accuracy(self) -> float:
        recalls = list(self.recall.values())
        return float(np.mean(recalls)) if recalls else 0.0

    def to_dict(self) -> dict:
        return {"class_names": self.class_names, "confusion_matrix": self.confusion_matrix,
                "total": self.total, "accuracy": self.accuracy,
                "balanced_accuracy": self.balanced_accuracy, "recall": self.recall,
                "skipped": [{"path": p, "reason": r} for p, r in self.skipped]}


def servable_bytes(path: str, image_format: str) -> bytes:
    """Returns a photo's bytes in a format the served graph decodes (PNG when converted)."""
    data = photo_folder.read_file(path)
    if image_format in _SERVABLE_FORMATS:
        return data
    from PIL import Image, ImageOps  # pylint: disable=g-import-not-at-top
    image = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def evaluate(root: str, predict: Predictor, model_classes: Sequence[str],
             class_map_path: Optional[str] = None, batch_size: int = 32) -> PhotoEvaluation:
    """Classifies every usable photo under ``root`` and compares with its folder's class.

    Args:
      root: the labelled photo folder.
      predict: the model, as a function of a batch of encoded images.
      model_classes: the class names the model predicts.
      class_map_path: JSON/YAML class map grouping sub-folders into classes.
      batch_size: images per call of ``predict``.

    Raises:
      ValueError: a class of the folder is not one the model knows.
    """
    class_map = class_map_lib.load(class_map_path) if class_map_path else None
    scan = photo_folder.scan(root, class_map)
    unknown = sorted(set(scan.class_names) - set(model_classes))
    if unknown:
        raise ValueError(f"{root}: classes {unknown} are not classes of the model "
                         f"({', '.join(model_classes)}); rename the folders or pass --class-map")
    index = {name: i for i, name in enumerate(model_classes)}
    matrix = np.zeros((len(model_classes), len(model_classes)), np.int64)
    photos = scan.photos
    for start in range(0, len(photos), batch_size):
        batch = photos[start:start + batch_size]
        encoded = [servable_bytes(os.path.join(root, p.path), p.format) for p in batch]
        for photo, predicted in zip(batch, predict(encoded)):
            matrix[index[photo.class_name], index[predicted]] += 1
    return PhotoEvaluation(list(model_classes), matrix.tolist(),
                           [(s.path, s.reason) for s in scan.skipped])


def confusion_matrix_png(evaluation: PhotoEvaluation, title: str) -> bytes:
    """Draws the confusion matrix (counts, rows: true class) as PNG bytes."""
    import matplotlib  # pylint: disable=g-import-not-at-top
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top
    matrix = np.asarray(evaluation.confusion_matrix)
    figure, axes = plt.subplots(figsize=(4.5, 4), dpi=100)
    axes.imshow(matrix, cmap="Blues")
    ticks = range(len(evaluation.class_names))
    axes.set_xticks(list(ticks), evaluation.class_names)
    axes.set_yticks(list(ticks), evaluation.class_names)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    for (row, col), value in np.ndenumerate(matrix):
        axes.text(col, row, str(value), ha="center", va="center",
                  color="white" if value > matrix.max() / 2 else "black")
    axes.set_title(title, fontsize=9)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()


def write_report(evaluation: PhotoEvaluation, output_dir: str, title: str) -> List[str]:
    """Writes the JSON report and the confusion matrix PNG; returns their paths."""
    os.makedirs(output_dir, exist_ok=True)
    json_path = os.path.join(output_dir, REPORT_JSON)
    with open(json_path, "w") as f:
        json.dump(evaluation.to_dict(), f, indent=2)
    png_path = os.path.join(output_dir, CONFUSION_PNG)
    with open(png_path, "wb") as f:
        f.write(confusion_matrix_png(evaluation, title))
    return [json_path, png_path]


def format_evaluation(evaluation: PhotoEvaluation) -> str:
    """Formats accuracy, balanced accuracy, per-class recall and the matrix as text."""
    lines = [f"photos evaluated: {evaluation.total} ({len(evaluation.skipped)} skipped)",
             f"accuracy: {100 * evaluation.accuracy:.2f}%",
             f"balanced accuracy: {100 * evaluation.balanced_accuracy:.2f}%",
             "recall per class: " + ", ".join(
                 f"{name} {100 * value:.2f}%" for name, value in evaluation.recall.items()),
             "confusion matrix (rows: true class, columns: predicted):",
             "    " + " " * 8 + "".join(f"{n:>8s}" for n in evaluation.class_names)]
    for name, row in zip(evaluation.class_names, evaluation.confusion_matrix):
        lines.append(f"    {name:8s}" + "".join(f"{v:>8d}" for v in row))
    for path, reason in evaluation.skipped:
        lines.append(f"  skipped {path}: {reason}")
    return "\n".join(lines)


def local_predictor(model_dir: str) -> Tuple[Predictor, List[str]]:
    """A predictor over a local SavedModel (or the latest version under a model base path)."""
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    from imagepipe.components import features  # pylint: disable=g-import-not-at-top
    path = latest_version(model_dir)
    serve = tf.saved_model.load(path).signatures[features.SERVING_SIGNATURE]

    def predict(encoded: List[bytes]) -> List[str]:
        outputs = serve(**{features.SERVING_INPUT_KEY: tf.constant(encoded)})
        return [n.decode() for n in outputs[features.CLASS_NAMES_OUTPUT].numpy()]

    return predict, list(features.SUPER_CLASS_NAMES)


def latest_version(model_dir: str) -> str:
    """``model_dir`` itself when it holds saved_model.pb, else its highest numeric version."""
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    if tf.io.gfile.exists(os.path.join(model_dir, "saved_model.pb")):
        return model_dir
    versions = sorted(int(n.rstrip("/")) for n in tf.io.gfile.listdir(model_dir)
                      if n.rstrip("/").isdigit())
    if not versions:
        raise FileNotFoundError(f"{model_dir} holds neither saved_model.pb nor version folders")
    return os.path.join(model_dir, str(versions[-1]))
