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
                    "the model saw). When a class map merges folders into a class, the recall "
                    "of each source folder too. The classes are the model's own, so "
                    "Fashion-MNIST and folder-trained models both work; several --model-dir "
                    "compare models on the same photos.")
    parser.add_argument("--photos", required=True, help="the labelled photo folder")
    parser.add_argument("--class-map", default=None, help=CLASS_MAP_FORMAT)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model-dir", action="append",
                        help="a SavedModel folder, or a serving model folder (its latest "
                             "version is used); given again, the models are compared on the "
                             "same photos: a side-by-side table, comparison.json and each "
                             "model's report in a sub-folder of --output")
    source.add_argument("--server", help="TF Serving REST URL, e.g. http://127.0.0.1:8501")
    parser.add_argument("--model", default="fashion_mnist", help="model name on the server (default: %(default)s)")
    parser.add_argument("--batch-size", type=int, default=32, help="images per request (default: %(default)s)")
    parser.add_argument("--output", default=DEFAULT_OUTPUT,
                        help="folder for the JSON report, the confusion matrix and the "
                             "contact sheet (default: %(default)s)")
    parser.set_defaults(func=_evaluate)


def _models(args: argparse.Namespace) -> list:
    from imagepipe.pipeline import photo_eval  # pylint: disable=g-import-not-at-top
    if args.model_dir:
        return [photo_eval.local_model(model_dir) for model_dir in args.model_dir]
    from imagepipe.serving.client import ServingClient  # pylint: disable=g-import-not-at-top
    return [photo_eval.served_model(ServingClient(args.server, args.model), args.model)]


def _evaluate(args: argparse.Namespace) -> int:
    from imagepipe.pipeline import photo_eval  # pylint: disable=g-import-not-at-top
    from imagepipe.serving.client import ClientError  # pylint: disable=g-import-not-at-top
    try:
        models = _models(args)
        evaluations = photo_eval.evaluate_all(args.photos, models, args.class_map,
                                              args.batch_size)
    except (ValueError, FileNotFoundError, OSError, ClientError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if len(evaluations) == 1:
        print(photo_eval.format_evaluation(evaluations[0]))
        written = photo_eval.write_report(evaluations[0], args.output, args.photos, models[0])
    else:
        print(photo_eval.format_comparison(evaluations))
        written = photo_eval.write_comparison(evaluations, args.output, args.photos, models)
    for path in written:
        print(f"wrote {path}")
    return 0
