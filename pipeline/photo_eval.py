"""Evaluation of a model on a labelled folder of real photos, for failure analysis.

The folder is read like any photo folder (one sub-folder per class, or a
class map grouping sub-folders); every photo goes through the model's own
``serving_default`` signature -- the served model over REST or a local
SavedModel in process -- so the Transform's normalization is what runs on it.
Photos in formats the served graph cannot decode (WebP, TIFF, CMYK or
16-bit images) are converted to PNG on the way, as a client would.

The classes are the model's own (its ``class_names`` output), so a
folder-trained model is evaluated as well as a Fashion-MNIST one. Where the
model has the ``normalized_images`` signature, the evaluation also keeps what
the model saw: the share of photos whose normalized image is nearly empty, and
a contact sheet of the worst photos beside their normalized images.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from imagepipe.components import reports
from imagepipe.data import class_map as class_map_lib
from imagepipe.data import photo_folder
from imagepipe.serving.client import Prediction

_SERVABLE_FORMATS = ("JPEG", "PNG", "GIF", "BMP")
REPORT_JSON = "photo_evaluation.json"
CONFUSION_PNG = "confusion_matrix.png"
CONTACT_SHEET_PNG = "worst_photos.png"
# A normalized image is "near-empty" when under 5% of its pixels are above 0.3 (of 1).
LIT_LEVEL = 0.3
NEAR_EMPTY_LIT_FRACTION = 0.05
WORST_SHOWN = 24


@dataclasses.dataclass
class EvaluatedModel:
    """A model as evaluate sees it.

    Attributes:
      description: where it comes from (folder and version, or server and version).
      predict: encoded images -> one Prediction each.
      normalize: encoded images -> float32 [N, H, W, C], what the model saw;
        None when the model has no ``normalized_images`` signature.
      class_names: the model's classes in id order; None when they can only be
        learnt from its answers (a server).
    """

    description: str
    predict: Callable[[List[bytes]], List[Prediction]]
    normalize: Optional[Callable[[List[bytes]], np.ndarray]] = None
    class_names: Optional[List[str]] = None


@dataclasses.dataclass(frozen=True)
class PhotoResult:
    """One photo: its class, the model's answer and how much of what the model saw is lit."""

    path: str
    true_class: str
    predicted: str
    probabilities: Tuple[float, ...]  # in the model's class order
    lit_fraction: Optional[float]  # share of normalized pixels above LIT_LEVEL
    image_format: str = "JPEG"

    @property
    def near_empty(self) -> Optional[bool]:
        return None if self.lit_fraction is None else self.lit_fraction < NEAR_EMPTY_LIT_FRACTION


@dataclasses.dataclass
class PhotoEvaluation:
    """Metrics of a model on a photo folder, with one row per photo."""

    class_names: List[str]
    confusion_matrix: List[List[int]]  # rows: true class, columns: predicted
    skipped: List[Tuple[str, str]]  # (path, reason) of photos not evaluated
    photos: List[PhotoResult] = dataclasses.field(default_factory=list)
    model: str = ""
    class_map: str = "one class per sub-folder"
    missing_folders: Tuple[str, ...] = ()

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

    @property
    def near_empty_share(self) -> Optional[float]:
        """Share of photos whose normalized image is nearly empty; None when not known."""
        flags = [photo.near_empty for photo in self.photos if photo.near_empty is not None]
        return float(np.mean(flags)) if flags else None

    def true_probability(self, photo: PhotoResult) -> float:
        return photo.probabilities[self.class_names.index(photo.true_class)]

    def worst(self, count: int = WORST_SHOWN) -> List[PhotoResult]:
        """The photos with the lowest probability of their true class, worst first."""
        return sorted(self.photos, key=self.true_probability)[:count]

    def skipped_by_folder(self) -> Dict[str, Dict[str, int]]:
        """Left-out files per top-level folder ('.' for the root), then per reason."""
        return reports.skipped_by_folder(self.skipped)

    def to_dict(self) -> dict:
        return {"model": self.model, "class_map": self.class_map,
                "class_names": self.class_names, "confusion_matrix": self.confusion_matrix,
                "total": self.total, "accuracy": self.accuracy,
                "balanced_accuracy": self.balanced_accuracy, "recall": self.recall,
                "near_empty_share": self.near_empty_share,
                "near_empty_rule": f"under {NEAR_EMPTY_LIT_FRACTION:.0%} of the normalized "
                                   f"pixels above {LIT_LEVEL}",
                "missing_folders": list(self.missing_folders),
                "photos": [{"path": p.path, "true": p.true_class, "predicted": p.predicted,
                            "probabilities": dict(zip(self.class_names, p.probabilities)),
                            "lit_fraction": p.lit_fraction, "near_empty": p.near_empty}
                           for p in self.photos],
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


def lit_fraction(normalized: np.ndarray) -> Optional[float]:
    """Share of pixels above ``LIT_LEVEL`` of a Fashion-MNIST-like image ([H, W, 1] in [0, 1]).

    None for other inputs (colour, or not in [0, 1]: e.g. a ResNet's), where
    "lit" means nothing.
    """
    if normalized.ndim != 3 or normalized.shape[-1] != 1:
        return None
    if normalized.min() < -1e-6 or normalized.max() > 1 + 1e-6:
        return None
    return float(np.mean(normalized > LIT_LEVEL))


def model_class_names(predictions: Sequence[Prediction], folder_classes: Sequence[str],
                      known: Optional[Sequence[str]] = None) -> List[str]:
    """The model's classes in id order, from the model or else from its answers.

    A server tells class names only through its answers: each answer pairs a
    class id with its name, and the length of ``probabilities`` is the number
    of classes. A class never predicted keeps its folder's name when that is
    the only way to fill the slot, else ``class <id>``.

    Raises:
      ValueError: a class of the folder is not one the model knows.
    """
    if known is not None:
        names = list(known)
    else:
        size = len(predictions[0].probabilities) if predictions else len(folder_classes)
        by_id = {p.class_id: p.class_name for p in predictions}
        unseen = [name for name in folder_classes if name not in by_id.values()]
        free = [i for i in range(size) if i not in by_id]
        if len(unseen) > len(free):
            raise ValueError(
                f"classes {sorted(unseen)} are not classes of the model as far as its answers "
                f"tell: it never predicted them and has {len(free)} class(es) besides "
                f"{sorted(set(by_id.values()))}; rename the folders or pass --class-map")
        names = [by_id.get(i, "") for i in range(size)]
        for slot, name in zip(free, unseen):
            names[slot] = name
        names = [name or f"class {i}" for i, name in enumerate(names)]
    unknown = sorted(set(folder_classes) - set(names))
    if unknown:
        raise ValueError(f"classes {unknown} are not classes of the model "
                         f"({', '.join(names)}); rename the folders or pass --class-map")
    return names


def evaluate(root: str, model: EvaluatedModel, class_map_path: Optional[str] = None,
             batch_size: int = 32) -> PhotoEvaluation:
    """Classifies every usable photo under ``root`` and compares with its folder's class.

    Args:
      root: the labelled photo folder.
      model: the model (:func:`local_model`, :func:`served_model`).
      class_map_path: JSON/YAML class map grouping sub-folders into classes.
      batch_size: images per call of the model.

    Raises:
      ValueError: a class of the folder is not one the model knows (the
        message names it).
    """
    class_map = class_map_lib.load(class_map_path) if class_map_path else None
    scan = photo_folder.scan(root, class_map)
    if model.class_names is not None:
        model_class_names([], scan.class_names, model.class_names)  # fail before any work
    predictions: List[Prediction] = []
    lit: List[Optional[float]] = []
    for start in range(0, len(scan.photos), batch_size):
        batch = scan.photos[start:start + batch_size]
        encoded = [servable_bytes(os.path.join(root, p.path), p.format) for p in batch]
        predictions.extend(model.predict(encoded))
        if model.normalize is not None:
            lit.extend(lit_fraction(image) for image in model.normalize(encoded))
        else:
            lit.extend([None] * len(batch))
    names = model_class_names(predictions, scan.class_names, model.class_names)
    index = {name: i for i, name in enumerate(names)}
    matrix = np.zeros((len(names), len(names)), np.int64)
    results = []
    for photo, prediction, lit_share in zip(scan.photos, predictions, lit):
        matrix[index[photo.class_name], prediction.class_id] += 1
        results.append(PhotoResult(photo.path, photo.class_name, names[prediction.class_id],
                                   tuple(float(p) for p in prediction.probabilities), lit_share,
                                   photo.format))
    return PhotoEvaluation(
        names, matrix.tolist(), [(s.path, s.reason) for s in scan.skipped], results,
        model=model.description, class_map=class_map_path or "one class per sub-folder",
        missing_folders=tuple(scan.missing_folders))


def _title(evaluation: PhotoEvaluation) -> str:
    return (f"{evaluation.model}\nclass map: {evaluation.class_map}\n"
            f"accuracy {100 * evaluation.accuracy:.2f}%, balanced "
            f"{100 * evaluation.balanced_accuracy:.2f}% on {evaluation.total} photos")


def confusion_matrix_png(evaluation: PhotoEvaluation) -> bytes:
    """Draws the confusion matrix (counts, rows: true class) as PNG bytes, titled with
    the model, its version, the class map and the accuracy."""
    import matplotlib  # pylint: disable=g-import-not-at-top
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top
    matrix = np.asarray(evaluation.confusion_matrix)
    figure, axes = plt.subplots(figsize=(5.5, 5), dpi=100)
    axes.imshow(matrix, cmap="Blues")
    ticks = range(len(evaluation.class_names))
    axes.set_xticks(list(ticks), evaluation.class_names)
    axes.set_yticks(list(ticks), evaluation.class_names)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    for (row, col), value in np.ndenumerate(matrix):
        axes.text(col, row, str(value), ha="center", va="center",
                  color="white" if value > matrix.max() / 2 else "black")
    axes.set_title(_title(evaluation), fontsize=8)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()


def _displayable(normalized: np.ndarray, side: int):
    from PIL import Image  # pylint: disable=g-import-not-at-top
    image = normalized.astype(np.float64)
    low, high = float(image.min()), float(image.max())
    if low < 0.0 or high > 1.0:  # not a [0, 1] image (e.g. a ResNet's input): stretch it
        image = (image - low) / max(high - low, 1e-9)
    pixels = np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8)
    picture = Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels)
    return picture.convert("RGB").resize((side, side), Image.NEAREST)


def contact_sheet_png(evaluation: PhotoEvaluation, root: str, model: EvaluatedModel,
                      count: int = WORST_SHOWN, side: int = 112) -> Optional[bytes]:
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


def write_report(evaluation: PhotoEvaluation, output_dir: str, root: Optional[str] = None,
                 model: Optional[EvaluatedModel] = None) -> List[str]:
    """Writes the JSON report, the confusion matrix PNG and (given the folder and the model)
    the contact sheet of the worst photos; returns their paths."""
    os.makedirs(output_dir, exist_ok=True)
    json_path = os.path.join(output_dir, REPORT_JSON)
    with open(json_path, "w") as f:
        json.dump(evaluation.to_dict(), f, indent=2)
    png_path = os.path.join(output_dir, CONFUSION_PNG)
    with open(png_path, "wb") as f:
        f.write(confusion_matrix_png(evaluation))
    written = [json_path, png_path]
    if root is not None and model is not None:
        sheet = contact_sheet_png(evaluation, root, model)
        if sheet is not None:
            sheet_path = os.path.join(output_dir, CONTACT_SHEET_PNG)
            with open(sheet_path, "wb") as f:
                f.write(sheet)
            written.append(sheet_path)
    return written


def format_evaluation(evaluation: PhotoEvaluation) -> str:
    """Formats the metrics, the matrix, the near-empty share and what was left out as text."""
    lines = [f"model: {evaluation.model}", f"class map: {evaluation.class_map}"]
    lines += [f"warning: the class map names folder {folder!r}, which is not in the photo "
              f"folder" for folder in evaluation.missing_folders]
    lines += [f"photos evaluated: {evaluation.total} ({len(evaluation.skipped)} left out)",
              f"accuracy: {100 * evaluation.accuracy:.2f}%",
              f"balanced accuracy: {100 * evaluation.balanced_accuracy:.2f}%",
              "recall per class: " + ", ".join(
                  f"{name} {100 * value:.2f}%" for name, value in evaluation.recall.items())]
    share = evaluation.near_empty_share
    if share is not None:
        near_empty = sum(bool(p.near_empty) for p in evaluation.photos)
        lines.append(f"near-empty normalization: {100 * share:.1f}% of the photos ({near_empty}; "
                     f"under {NEAR_EMPTY_LIT_FRACTION:.0%} of the normalized pixels above "
                     f"{LIT_LEVEL})")
    else:
        lines.append("near-empty normalization: not known (the model has no normalized_images "
                     "signature, or its input is not a Fashion-MNIST-like image)")
    lines += ["confusion matrix (rows: true class, columns: predicted):",
              "    " + " " * 8 + "".join(f"{n:>8s}" for n in evaluation.class_names)]
    for name, row in zip(evaluation.class_names, evaluation.confusion_matrix):
        lines.append(f"    {name:8s}" + "".join(f"{v:>8d}" for v in row))
    for folder, reasons in evaluation.skipped_by_folder().items():
        detail = ", ".join(f"{photo_folder.REASONS.get(reason, reason)} {count}"
                           for reason, count in reasons.items())
        lines.append(f"  left out in {folder}/: {sum(reasons.values())} ({detail})")
    return "\n".join(lines)


def _prediction_rows(outputs) -> List[Prediction]:
    from imagepipe.components import features  # pylint: disable=g-import-not-at-top
    return [Prediction(int(i), n.decode(), [float(p) for p in row]) for i, n, row in zip(
        outputs[features.CLASS_IDS_OUTPUT].numpy(), outputs[features.CLASS_NAMES_OUTPUT].numpy(),
        outputs[features.PROBABILITIES_OUTPUT].numpy())]


def _graph_class_names(serve) -> Optional[List[str]]:
    """The class names constant of an imagepipe serving signature (what class_names gathers).

    Looked up in the signature's graph and its function library: the one
    string constant as long as the probabilities. None when there is none.
    """
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    from imagepipe.components import features  # pylint: disable=g-import-not-at-top
    width = serve.structured_outputs[features.PROBABILITIES_OUTPUT].shape[-1]
    graph_def = serve.graph.as_graph_def()
    nodes = list(graph_def.node) + [n for f in graph_def.library.function for n in f.node_def]
    for node in nodes:
        if node.op != "Const" or node.attr["dtype"].type != tf.string.as_datatype_enum:
            continue
        value = tf.make_ndarray(node.attr["value"].tensor)
        if value.shape == (width,):
            return [v.decode() for v in value]
    return None


def local_model(model_dir: str) -> EvaluatedModel:
    """A local SavedModel (or the latest version under a model base path), run in process."""
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    from imagepipe.components import features  # pylint: disable=g-import-not-at-top
    path = latest_version(model_dir)
    loaded = tf.saved_model.load(path)
    serve = loaded.signatures[features.SERVING_SIGNATURE]

    def predict(encoded: List[bytes]) -> List[Prediction]:
        return _prediction_rows(serve(**{features.SERVING_INPUT_KEY: tf.constant(encoded)}))

    normalize = None
    if features.NORMALIZED_SIGNATURE in loaded.signatures:
        signature = loaded.signatures[features.NORMALIZED_SIGNATURE]

        def normalize(encoded: List[bytes]) -> np.ndarray:
            return signature(**{features.SERVING_INPUT_KEY: tf.constant(encoded)})[
                features.NORMALIZED_OUTPUT].numpy()

    version = os.path.basename(path.rstrip("/"))
    description = f"{path}" + (f" (version {version})" if version.isdigit() else "")
    return EvaluatedModel(description, predict, normalize, _graph_class_names(serve))


def served_model(client, name: str) -> EvaluatedModel:
    """A model on a TF Serving REST server (``imagepipe serve`` or TensorFlow Serving)."""
    from imagepipe.components import features  # pylint: disable=g-import-not-at-top
    from imagepipe.serving.client import ClientError, b64_instance  # noqa
    available = [int(v["version"]) for v in client.status().get("model_version_status", [])
                 if v.get("state") == "AVAILABLE"]
    version = f", version {max(available)}" if available else ""

    def normalize(encoded: List[bytes]) -> np.ndarray:
        answer = client.predict({"signature_name": features.NORMALIZED_SIGNATURE,
                                 "instances": [b64_instance(image) for image in encoded]})
        return np.asarray(answer["predictions"], np.float32)

    try:
        metadata = client.metadata()
        signatures = metadata["metadata"]["signature_def"]["signature_def"]
        has_normalized = features.NORMALIZED_SIGNATURE in signatures
    except (ClientError, KeyError, TypeError):
        has_normalized = False
    return EvaluatedModel(f"{client.server} model {name}{version}", client.predict_images,
                          normalize if has_normalized else None)


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
