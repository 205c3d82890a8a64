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
import sys
import time
import warnings


FOLDER_FIELDS = ("data_dir", "class_map", "max_pixels", "max_file_mb", "follow_links",
                 "image_size", "split_seed")


def register(subparsers) -> None:
    """Adds the ``inspect`` command."""
    from imagepipe.components import sources  # pylint: disable=g-import-not-at-top
    from imagepipe.pipeline.commands import options  # pylint: disable=g-import-not-at-top
    parser = subparsers.add_parser(
        "inspect", help="dry run: what ingesting a photo folder would do",
        description="Scan a photo folder as `imagepipe run folder` would and print its classes, "
                    "images per class and split, and every file that would be skipped, with "
                    "the reason. Nothing is run or written.")
    options.add_offered(parser, options.Offered(
        (sources.get("folder"),), data_fields=FOLDER_FIELDS, training=False, tuning=False,
        evaluation=False))
    parser.add_argument("--json", metavar="FILE", default=None,
                        help="also write the full report as JSON to FILE ('-': standard output "
                             "instead of the text)")
    parser.set_defaults(func=_inspect)


def _scan(args: argparse.Namespace):
    from imagepipe.components.sources import photo_folder as source  # pylint: disable=g-import-not-at-top
    from imagepipe.data import photo_folder  # pylint: disable=g-import-not-at-top
    from imagepipe.pipeline.commands import options  # pylint: disable=g-import-not-at-top
    data = options.command_settings(args).data
    return data, photo_folder.scan(data.data_dir, data.class_map, max_pixels=data.max_pixels,
                                   limits=source.scan_limits(data))


def _report(folder_scan, data):
    """The report and the problems that would stop a run."""
    from imagepipe.components import reports  # pylint: disable=g-import-not-at-top
    from imagepipe.data import photo_folder  # pylint: disable=g-import-not-at-top
    problems = photo_folder.problems(folder_scan, [name for name, _ in data.splits])
    assignment = None if problems else photo_folder.assign_splits(
        folder_scan.photos, data.splits, data.split_seed)
    return reports.FolderIngestReport.from_scan(folder_scan, data.splits, data.split_seed,
                                                assignment), problems


def _inspect(args: argparse.Namespace) -> int:
    from imagepipe.data import photo_folder  # pylint: disable=g-import-not-at-top
    warnings.filterwarnings("ignore", module=r"PIL\..*")  # odd files warn; the report says it
    start = time.monotonic()
    try:
        data, folder_scan = _scan(args)
    except ValueError as error:  # a missing folder, a bad class map
        print(f"error: {error}", file=sys.stderr)
        return 2
    seconds = time.monotonic() - start
    report, problems = _report(folder_scan, data)
    if args.json:
        text = report.to_json()
        if args.json == "-":
            print(text)
            return 1 if problems else 0
        with open(args.json, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    print(f"imagepipe inspect: {data.data_dir} (dry run, nothing is ingested)")
    print("\n".join(report.summary_lines()))
    read = len(folder_scan.photos) + sum(
        1 for entry in folder_scan.skipped if entry.reason not in photo_folder.LISTING_REASONS)
    rate = f", {read} files read at {read / seconds:.0f} files/s" if seconds > 0 else ""
    if problems:
        print("✘ `imagepipe run folder` would stop:\n  " + "\n  ".join(problems))
        return 1
    print(f"✔ ready: {len(folder_scan.class_names)} classes, each in every split; "
          f"scanned in {seconds:.1f} s{rate}")
    return 0
