"""``imagepipe classify-folder PATH --model-dir DIR``: batch inference on unlabelled photos."""

from __future__ import annotations

import argparse
import os
import sys
from typing import List

# serve's argparse type for a whole number of at least 1.
from imagepipe.pipeline.commands.serve import _positive  # pylint: disable=protected-access

DEFAULT_OUTPUT = "imagepipe-output/classified/predictions"
SKIPPED_SHOWN = 10


def register(subparsers) -> None:
    """Adds the ``classify-folder`` command."""
    parser = subparsers.add_parser(
        "classify-folder", help="classify every photo of an unlabelled folder (batch inference)",
        description="Classify every photo under PATH (recursively) with a pushed model and "
                    "write one row per photo (path, class, probability of each class) to "
                    "FILE_PREFIX.csv and FILE_PREFIX.jsonl. Files that are not usable images "
                    "get a row with the reason instead and are listed in "
                    "FILE_PREFIX.skipped.csv; they never stop the run. Rows are appended and "
                    "flushed batch by batch: run the same command again after a kill and it "
                    "goes on where it stopped. Prints the throughput in photos/s.")
    parser.add_argument("path", metavar="PATH", help="the folder of photos, local or gs://")
    parser.add_argument("--model-dir", required=True,
                        help="a serving model folder (its latest version is used) or a "
                             "SavedModel folder")
    parser.add_argument("--version", type=_positive, default=None,
                        help="use this version under --model-dir instead of the latest")
    parser.add_argument("--output", metavar="FILE_PREFIX", default=DEFAULT_OUTPUT,
                        help="path of the output files without their suffixes (local): "
                             ".csv, .jsonl, .skipped.csv and .meta.json (default: "
                             "%(default)s)")
    parser.add_argument("--batch-size", type=_positive, default=32,
                        help="photos per call of the model and per flush of the output "
                             "(default: %(default)s)")
    parser.set_defaults(func=_classify)


def _skipped_lines(rows) -> List[str]:
    lines = [f"  {row.path}: {row.skipped} ({row.detail})" for row in rows[:SKIPPED_SHOWN]]
    if len(rows) > SKIPPED_SHOWN:
        lines.append(f"  ... and {len(rows) - SKIPPED_SHOWN} more")
    return lines


def _classify(args: argparse.Namespace) -> int:
    from imagepipe.pipeline import classify, photo_eval  # pylint: disable=g-import-not-at-top
    from imagepipe.pipeline.classify import photos, runner  # pylint: disable=g-import-not-at-top
    try:
        if not photos.is_folder(args.path):
            raise FileNotFoundError(f"photo folder not found: {args.path}")
        version = runner.model_version(args.model_dir, args.version)
        version = version if "://" in version else os.path.abspath(version)
        model = photo_eval.local_model(version)
        meta = {"photos": os.path.abspath(args.path) if "://" not in args.path else args.path,
                "model": version, "class_names": runner.class_names(model)}
        writer = classify.RowWriter(args.output, meta)
        print(f"model: {model.description}")
        outcome = classify.classify_folder(args.path, model, writer, args.batch_size,
                                           runner.ProgressLine())
    except (FileNotFoundError, classify.OutputError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    _print_outcome(outcome, writer)
    return 0


def _print_outcome(outcome, writer) -> None:
    rate = outcome.photos_per_second
    print(f"entries: {outcome.entries} ({outcome.resumed} finished earlier, kept); this run: "
          f"{outcome.classified} photos classified, {outcome.skipped} skipped")
    from imagepipe.pipeline import classify  # pylint: disable=g-import-not-at-top
    skipped = writer.skipped_rows()
    if skipped:
        print(f"skipped ({len(skipped)}, listed in {writer.path(classify.SKIPPED_SUFFIX)}):")
        print("\n".join(_skipped_lines(skipped)))
    if rate is not None:
        print(f"throughput: {rate:.1f} photos/s ({outcome.classified} photos in "
              f"{outcome.seconds:.1f} s)")
    for path in outcome.files:
        print(f"wrote {path}")
