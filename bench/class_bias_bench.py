"""Benchmark: one trained model with and without its balanced class bias, side by side.

``--class-bias balanced`` adds a per-class bias, fitted on the validation split,
to the exported model's logits (``components/trainer/class_bias.py``). The
bias moves decisions only, so both sides come from the same weights: the model
the Trainer of a main job exported, its log-probabilities on the eval and test
splits, and the same log-probabilities less (or plus) the bias. A model
trained with ``--class-bias none`` is given the bias it would have had, fitted
here on its eval split exactly as the Trainer fits it.

Prints accuracy, balanced accuracy (mean recall), per-class recall and the
error count on the eval split (where the bias was fitted) and the test split
(never seen by the fit), and, with ``--photos``, on each labelled photo folder
under it (e.g. ``bench/photo_bench.py --photos DIR``'s renderings).

    python bench/class_bias_bench.py --output DIR [--photos DIR]

DIR is the ``--output`` folder of ``imagepipe run fashion-mnist`` (the main job).
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
from typing import Dict, List, Tuple

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402  pylint: disable=g-import-not-at-top


def _log(probabilities) -> np.ndarray:
    return np.log(np.maximum(np.asarray(probabilities), 1e-30))


def _latest(pattern: str) -> str:
    matches = sorted(glob.glob(pattern), key=os.path.getmtime)
    if not matches:
        raise FileNotFoundError(f"nothing matches {pattern}: is it a main job's --output folder?")
    return matches[-1]


def _split_log_probabilities(model, examples_dir: str, split: str
                             ) -> Tuple[np.ndarray, np.ndarray]:
    """The model's log-probabilities and the mapped labels of one ExampleGen split."""
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    from imagepipe.components import features  # pylint: disable=g-import-not-at-top
    label_xf = features.transformed_name(features.LABEL_KEY)
    files = glob.glob(os.path.join(examples_dir, f"Split-{split}", "*"))
    log_probabilities, labels = [], []
    for batch in tf.data.TFRecordDataset(files, compression_type="GZIP").batch(512):
        outputs = model.signatures[features.FROM_EXAMPLES_SIGNATURE](examples=batch)
        log_probabilities.append(_log(outputs[features.PROBABILITIES_OUTPUT].numpy()))
        transformed = model.signatures[features.TRANSFORM_SIGNATURE](examples=batch)
        labels.append(transformed[label_xf].numpy().reshape(-1))
    return np.concatenate(log_probabilities), np.concatenate(labels).astype(np.int64)


def _photo_log_probabilities(folder: str, model_dir: str, class_names: List[str]
                             ) -> Tuple[np.ndarray, np.ndarray]:
    from imagepipe.pipeline import photo_eval  # pylint: disable=g-import-not-at-top
    evaluation = photo_eval.evaluate(folder, photo_eval.local_model(model_dir))
    log_probabilities = _log([photo.probabilities for photo in evaluation.photos])
    labels = np.array([class_names.index(photo.true_class) for photo in evaluation.photos])
    return log_probabilities, labels


def _row(label: str, side: str, logits: np.ndarray, labels: np.ndarray) -> str:
    from imagepipe.components.trainer import class_bias  # pylint: disable=g-import-not-at-top
    recall = class_bias.recall(logits, labels, logits.shape[1])
    predicted = np.argmax(logits, axis=1)
    return (f"{label:16s} {side:9s} {100 * np.mean(predicted == labels):8.2f}% "
            f"{100 * np.nanmean(recall):9.2f}% "
            + " ".join(f"{100 * value:9.2f}%" for value in recall)
            + f" {int(np.sum(predicted != labels)):7d}")


def main() -> int:
    """Measures the model of a main job with and without its class bias."""
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    from imagepipe.components import reports  # pylint: disable=g-import-not-at-top
    from imagepipe.components.trainer import class_bias  # pylint: disable=g-import-not-at-top
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", required=True, help="a main job's --output folder")
    parser.add_argument("--photos", default=None,
                        help="folder of labelled photo folders (one sub-folder per class "
                             "inside each), e.g. bench/photo_bench.py --photos DIR")
    args = parser.parse_args()
    root = os.path.join(args.output, "pipeline_root")
    run_dir = _latest(os.path.join(root, "Trainer", "model_run", "*"))
    summary = reports.TrainingSummary.read(os.path.join(run_dir, reports.TRAINING_SUMMARY_FILE))
    model_dir = os.path.join(_latest(os.path.join(root, "Trainer", "model", "*")),
                             "Format-Serving")
    examples_dir = _latest(os.path.join(root, "ExampleGen", "examples", "*"))
    class_names = list(summary.class_names)
    model = tf.saved_model.load(model_dir)
    served_bias = np.zeros(len(class_names))
    if summary.class_bias is not None:
        served_bias = np.array(summary.class_bias.in_order(class_names))
    splits: Dict[str, Tuple[np.ndarray, np.ndarray]] = {}
    for split in ("eval", "test"):
        log_probabilities, labels = _split_log_probabilities(model, examples_dir, split)
        splits[split] = (log_probabilities - served_bias, labels)  # the plain model's
    if summary.class_bias is not None:
        bias, origin = served_bias, "the Trainer's"
    else:
        bias, origin = class_bias.fit(*splits["eval"]), "fitted here on eval"
    if args.photos:
        for family in sorted(os.listdir(args.photos)):
            log_probabilities, labels = _photo_log_probabilities(
                os.path.join(args.photos, family), model_dir, class_names)
            splits[f"photos {family}"] = (log_probabilities - served_bias, labels)
    print(f"model {model_dir}\nbias ({origin}): "
          + ", ".join(f"{name} {value:+.3f}" for name, value in zip(class_names, bias)))
    print(f"\n{'data':16s} {'bias':9s} {'accuracy':>9s} {'balanced':>10s} "
          + " ".join(f"{'rec ' + name:>10s}" for name in class_names) + f" {'errors':>7s}")
    for label, (logits, labels) in splits.items():
        print(_row(label, "without", logits, labels))
        print(_row(label, "with", logits + bias, labels))
    return 0


if __name__ == "__main__":
    sys.exit(main())
