"""``imagepipe inspect PATH``: a dry run of photo-folder ingestion.

Scans the folder exactly as the pipeline's FolderExampleGen does (the same
function, :func:`imagepipe.data.photo_folder.scan`), and prints the classes,
the images per class and per split, and every file that would be skipped with
its reason. Runs no pipeline, writes nothing (unless ``--json FILE``) and does
not load TensorFlow for a local folder.

Exit codes: 0 ready to run; 1 the run would stop (a class without usable
images, or too few for every split); 2 the folder or class map is unusable.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings


def register(subparsers) -> None:
    """Adds the ``inspect`` command."""
    parser = subparsers.add_parser(
        "inspect", help="dry run: what ingesting a photo folder would do",
        description="Scan a photo folder as `imagepipe run folder` would and print its classes, "
                    "images per class and split, and every file that would be skipped, with "
                    "the reason. Nothing is run or written.")
    from imagepipe.pipeline.commands import run_folder  # pylint: disable=g-import-not-at-top
    run_folder.add_folder_options(parser)
    parser.add_argument("--json", metavar="FILE", default=None,
                        help="also write the full report as JSON to FILE ('-': standard output "
                             "instead of the text)")
    parser.set_defaults(func=_inspect)


def _scan(args: argparse.Namespace):
    from imagepipe.data import class_map, images, photo_folder  # pylint: disable=g-import-not-at-top
    mapping = class_map.load(args.class_map) if args.class_map else None
    return photo_folder.scan(args.path, mapping,
                             max_pixels=args.max_pixels or images.DEFAULT_MAX_PIXELS)


def _report(folder_scan, seed: int):
    """The report and the problems that would stop a run."""
    from imagepipe.data import photo_folder  # pylint: disable=g-import-not-at-top
    from imagepipe.pipeline import config  # pylint: disable=g-import-not-at-top
    splits = config.DEFAULT_SPLITS
    problems = photo_folder.problems(folder_scan, [name for name, _ in splits])
    assignment = None if problems else photo_folder.assign_splits(folder_scan.photos, splits,
                                                                  seed)
    return photo_folder.build_report(folder_scan, splits, seed, assignment), problems


def _inspect(args: argparse.Namespace) -> int:
    from imagepipe.data import photo_folder  # pylint: disable=g-import-not-at-top
    from imagepipe.pipeline import folder_report  # pylint: disable=g-import-not-at-top
    warnings.filterwarnings("ignore", module=r"PIL\..*")  # odd files warn; the report says it
    start = time.monotonic()
    try:
        folder_scan = _scan(args)
    except ValueError as error:  # a missing folder, a bad class map
        print(f"error: {error}", file=sys.stderr)
        return 2
    seconds = time.monotonic() - start
    report, problems = _report(folder_scan, args.seed)
    if args.json:
        text = json.dumps(report, indent=2, ensure_ascii=False)
        if args.json == "-":
            print(text)
            return 1 if problems else 0
        with open(args.json, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    print(f"imagepipe inspect: {args.path} (dry run, nothing is ingested)")
    print("\n".join(folder_report.format_report(report)))
    read = len(folder_scan.photos) + sum(
        1 for entry in folder_scan.skipped if entry.reason not in photo_folder.LISTING_REASONS)
    rate = f", {read} files read at {read / seconds:.0f} files/s" if seconds > 0 else ""
    if problems:
        print("✘ `imagepipe run folder` would stop:\n  " + "\n  ".join(problems))
        return 1
    print(f"✔ ready: {len(folder_scan.class_names)} classes, each in every split; "
          f"scanned in {seconds:.1f} s{rate}")
    return 0

