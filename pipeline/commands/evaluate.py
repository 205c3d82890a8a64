"""``imagepipe evaluate --photos DIR``: a model on a labelled folder of real photos."""

from __future__ import annotations

import argparse
import sys

DEFAULT_OUTPUT = "imagepipe-output/photo-evaluation"
CLASS_MAP_FORMAT = ('a JSON (.json) or YAML file mapping each class of the model to its '
                    'sub-folders, in class order, e.g. {"upper": ["t-shirts", "shirts"], '
                    '"lower": "trousers", "shoes": ["sneakers", "boots"]}; default: each '
                    'sub-folder is the class of its name')


def register(subparsers) -> None:
    """Adds the ``evaluate`` command."""
    parser = subparsers.add_parser(
        "evaluate", help="evaluate a model on a labelled folder of photos (failure analysis)",
        description="Classify every photo of a labelled folder (one sub-folder per class of "
                    "the model, or --class-map) with the served model or a local SavedModel. "
                    "Prints accuracy, balanced accuracy, per-class recall, the confusion matrix, "
                    "the share of photos whose normalized image is nearly empty and what was "
                    "left out per folder; writes to --output: photo_evaluation.json (one row "
                    "per photo: path, true class, prediction, probabilities), "
                    "confusion_matrix.png and worst_photos.png (the worst photos beside what "
                    "the model saw). The classes are the model's own, so Fashion-MNIST and "
                    "folder-trained models both work.")
    parser.add_argument("--photos", required=True, help="the labelled photo folder")
    parser.add_argument("--class-map", default=None, help=CLASS_MAP_FORMAT)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model-dir", help="a SavedModel folder, or a serving model folder "
                                            "(its latest version is used)")
    source.add_argument("--server", help="TF Serving REST URL, e.g. http://127.0.0.1:8501")
    parser.add_argument("--model", default="fashion_mnist", help="model name on the server (default: %(default)s)")
    parser.add_argument("--batch-size", type=int, default=32, help="images per request (default: %(default)s)")
    parser.add_argument("--output", default=DEFAULT_OUTPUT,
                        help="folder for the JSON report, the confusion matrix and the "
                             "contact sheet (default: %(default)s)")
    parser.set_defaults(func=_evaluate)


def _model(args: argparse.Namespace):
    from imagepipe.pipeline import photo_eval  # pylint: disable=g-import-not-at-top
    if args.model_dir:
        return photo_eval.local_model(args.model_dir)
    from imagepipe.serving.client import ServingClient  # pylint: disable=g-import-not-at-top
    return photo_eval.served_model(ServingClient(args.server, args.model), args.model)


def _evaluate(args: argparse.Namespace) -> int:
    from imagepipe.pipeline import photo_eval  # pylint: disable=g-import-not-at-top
    from imagepipe.serving.client import ClientError  # pylint: disable=g-import-not-at-top
    try:
        model = _model(args)
        evaluation = photo_eval.evaluate(args.photos, model, args.class_map, args.batch_size)
    except (ValueError, FileNotFoundError, OSError, ClientError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(photo_eval.format_evaluation(evaluation))
    for path in photo_eval.write_report(evaluation, args.output, args.photos, model):
        print(f"wrote {path}")
    return 0
