"""``imagepipe predict PATH...``: classify image files through a TF Serving REST endpoint."""

from __future__ import annotations

import argparse
import json
import sys
from typing import List


def register(subparsers) -> None:
    """Adds the ``predict`` command."""
    from imagepipe.serving import client  # pylint: disable=g-import-not-at-top
    parser = subparsers.add_parser(
        "predict", help="classify images through TF Serving's REST API",
        description="Send image files (PNG, JPEG, GIF, BMP; folders are searched recursively) "
                    "as base64 in batches to TF Serving or `imagepipe serve`, and print each "
                    "file's class and probability. Exit status: 0 all classified, 1 some files "
                    "failed, 2 nothing could be asked (server unreachable, unknown model...).")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders")
    parser.add_argument("--server", default=client.DEFAULT_SERVER,
                        help=f"REST base URL; default {client.DEFAULT_SERVER}")
    parser.add_argument("--model", default=client.DEFAULT_MODEL,
                        help=f"model name; default {client.DEFAULT_MODEL}")
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--version", type=int, default=None,
                        help="ask this version; default: the latest")
    target.add_argument("--label", default=None, help="ask the version with this label")
    parser.add_argument("--batch-size", type=int, default=32,
                        help="images per request; default 32")
    parser.add_argument("--timeout", type=float, default=client.DEFAULT_TIMEOUT,
                        help=f"seconds to wait for each answer; default {client.DEFAULT_TIMEOUT:g}")
    parser.add_argument("--retries", type=int, default=client.DEFAULT_RETRIES,
                        help=f"retries of transient failures (refused or dropped connections, "
                             f"HTTP 429/502/503/504); default {client.DEFAULT_RETRIES}")
    parser.add_argument("--json", action="store_true",
                        help="print a JSON list instead of a table")
    parser.set_defaults(func=_predict)


def _table(results) -> str:
    width = max([len("file")] + [len(r.path) for r in results])
    lines = [f"{'file':<{width}}  {'class':<10} {'probability':>11}"]
    for result in results:
        if result.error:
            lines.append(f"{result.path:<{width}}  error: {' '.join(result.error.split())}")
        elif result.skipped:
            lines.append(f"{result.path:<{width}}  skipped: {result.skipped}")
        else:
            p = result.prediction
            lines.append(f"{result.path:<{width}}  {p.class_name:<10} {p.probability:>10.2%}")
    failed = sum(1 for r in results if r.error)
    skipped = sum(1 for r in results if r.skipped)
    classified = len(results) - failed - skipped
    lines.append(f"{len(results)} files: {classified} classified, {failed} failed, "
                 f"{skipped} skipped")
    return "\n".join(lines)


def _json(results) -> str:
    rows: List[dict] = []
    for result in results:
        if result.error:
            rows.append({"file": result.path, "error": result.error})
        elif result.skipped:
            rows.append({"file": result.path, "skipped": result.skipped})
        else:
            p = result.prediction
            rows.append({"file": result.path, "class": p.class_name, "class_id": p.class_id,
                         "probability": p.probability, "probabilities": p.probabilities})
    return json.dumps(rows, indent=2)


def _predict(args: argparse.Namespace) -> int:
    from imagepipe.serving import client, images  # pylint: disable=g-import-not-at-top
    if args.batch_size < 1:
        print(f"error: --batch-size must be at least 1, got {args.batch_size}", file=sys.stderr)
        return 2
    with client.ServingClient(args.server, args.model, timeout=args.timeout,
                              retries=args.retries) as serving:
        try:
            results = images.classify_files(serving, args.paths, args.batch_size,
                                            version=args.version, label=args.label)
        except client.ClientError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    if not any(r.prediction or r.error for r in results):
        skipped = "".join(f"\n  {r.path}: skipped, {r.skipped}" for r in results)
        print("error: no image files found in " + ", ".join(args.paths) + skipped,
              file=sys.stderr)
        return 2
    print(_json(results) if args.json else _table(results))
    return 1 if any(r.error for r in results) else 0
