"""The models evaluate runs: a local SavedModel or a served one, and their class names.

A local model's classes come from its ``class_names`` signature. A server,
and a model exported before that signature, tell them only through their
answers (:func:`model_class_names`).
"""

from __future__ import annotations

import dataclasses
import os
from typing import Callable, List, Optional, Sequence

import numpy as np

from imagepipe.serving.client import Prediction


@dataclasses.dataclass
class EvaluatedModel:
    """A model as evaluate sees it.

    Attributes:
      description: where it comes from (folder and version, or server and version).
      predict: encoded images -> one Prediction each.
      normalize: encoded images -> float32 [N, H, W, C], what the model saw;
        None when the model has no ``normalized_images`` signature.
      class_names: the model's classes in id order; None when they can only be
        learnt from its answers (a server, or a model without the
        ``class_names`` signature).
      label: a short name (model folder and version) for a comparison's column.
    """

    description: str
    predict: Callable[[List[bytes]], List[Prediction]]
    normalize: Optional[Callable[[List[bytes]], np.ndarray]] = None
    class_names: Optional[List[str]] = None
    label: str = ""


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
    names = list(known) if known is not None else _names_from_answers(predictions, folder_classes)
    unknown = sorted(set(folder_classes) - set(names))
    if unknown:
        raise ValueError(f"classes {unknown} are not classes of the model "
                         f"({', '.join(names)}); rename the folders or pass --class-map")
    return names


def _names_from_answers(predictions: Sequence[Prediction],
                        folder_classes: Sequence[str]) -> List[str]:
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
    return [name or f"class {i}" for i, name in enumerate(names)]


def _prediction_rows(outputs) -> List[Prediction]:
    from imagepipe.components import features  # pylint: disable=g-import-not-at-top
    return [Prediction(int(i), n.decode(), [float(p) for p in row]) for i, n, row in zip(
        outputs[features.CLASS_IDS_OUTPUT].numpy(), outputs[features.CLASS_NAMES_OUTPUT].numpy(),
        outputs[features.PROBABILITIES_OUTPUT].numpy())]


def signature_class_names(loaded) -> Optional[List[str]]:
    """The class names a loaded SavedModel's ``class_names`` signature returns; None without it."""
    from imagepipe.components import features  # pylint: disable=g-import-not-at-top
    if features.CLASS_NAMES_SIGNATURE not in loaded.signatures:
        return None
    names = loaded.signatures[features.CLASS_NAMES_SIGNATURE]()[features.CLASS_NAMES_OUTPUT]
    return [name.decode() for name in names.numpy()]


def version_label(path: str) -> str:
    """``.../fashion_mnist/1733000000`` -> ``fashion_mnist/1733000000``; else the folder's name."""
    parent, name = os.path.split(path.rstrip("/"))
    return f"{os.path.basename(parent)}/{name}" if name.isdigit() and parent else name


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
    return EvaluatedModel(description, predict, normalize, signature_class_names(loaded),
                          version_label(path))


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
    label = f"{name}/{max(available)}" if available else name
    return EvaluatedModel(f"{client.server} model {name}{version}", client.predict_images,
                          normalize if has_normalized else None, label=label)


def latest_version(model_dir: str) -> str:
    """``model_dir`` itself when it holds saved_model.pb, else its highest numeric version."""
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    from imagepipe.components import features  # pylint: disable=g-import-not-at-top
    if tf.io.gfile.exists(os.path.join(model_dir, "saved_model.pb")):
        return model_dir
    versions = features.serving_versions(model_dir)
    if not versions:
        raise FileNotFoundError(f"{model_dir} holds neither saved_model.pb nor version folders")
    return os.path.join(model_dir, str(versions[-1]))
