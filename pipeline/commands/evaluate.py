"""``imagepipe evaluate --photos DIR``: a Fashion-MNIST model on a folder of real photos."""

from __future__ import annotations

import argparse
import sys


def register(subparsers) -> None:
    """Adds the ``evaluate`` command."""
    parser = subparsers.add_parser(
        "evaluate", help="evaluate a Fashion-MNIST model on a labelled folder of photos",
        description="Classify every photo of a labelled folder (one sub-folder per class: "
                    "upper, lower, shoes; or --class-map) with the served model or a local "
                    "SavedModel, and print accuracy, balanced accuracy, per-class recall and "
                    "the confusion matrix (also written as JSON and PNG to --output).")
    parser.add_argument("--photos", required=True, help="the labelled photo folder")
    parser.add_argument("--class-map", default=None,
                        help="JSON/YAML class map grouping sub-folders into upper/lower/shoes")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model-dir", help="a SavedModel folder, or a serving model folder "
                                            "(its latest version is used)")
    source.add_argument("--server", help="TF Serving REST URL, e.g. http://127.0.0.1:8501")
    parser.add_argument("--model", default="fashion_mnist",
                        help="model name on the server; default fashion_mnist")
    parser.add_argument("--batch-size", type=int, default=32, help="images per request")
    parser.add_argument("--output", default="imagepipe-output/photo-evaluation",
                        help="where the JSON report and the confusion matrix PNG go")
    parser.set_defaults(func=_evaluate)


def _predictor(args: argparse.Namespace):
    from imagepipe.components import features  # pylint: disable=g-import-not-at-top
    from imagepipe.pipeline import photo_eval  # pylint: disable=g-import-not-at-top
    if args.model_dir:
        return photo_eval.local_predictor(args.model_dir)
    from imagepipe.serving.client import ServingClient  # pylint: disable=g-import-not-at-top
    client = ServingClient(args.server, args.model)

    def predict(encoded):
        return [p.class_name for p in client.predict_images(encoded)]

    return predict, list(features.SUPER_CLASS_NAMES)


def _evaluate(args: argparse.Namespace) -> int:
    from imagepipe.pipeline import photo_eval  # pylint: disable=g-import-not-at-top
    from imagepipe.serving.client import ClientError  # pylint: disable=g-import-not-at-top
    try:
        predict, classes = _predictor(args)
        evaluation = photo_eval.evaluate(args.photos, predict, classes, args.class_map,
                                         args.batch_size)
    except (ValueError, FileNotFoundError, OSError, ClientError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(photo_eval.format_evaluation(evaluation))
    source = args.model_dir or f"{args.server} ({args.model})"
    for path in photo_eval.write_report(evaluation, args.output,
                                        f"{source}\n{args.photos}"):
        print(f"wrote {path}")
    return 0
