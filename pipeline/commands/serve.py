"""``imagepipe serve --model-dir DIR``: a local server speaking TF Serving's REST API."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from typing import Dict, Optional

DEFAULT_MAX_REQUEST_MB = 32
# The server's defaults (imagepipe.serving.server), here without importing TensorFlow.
DEFAULT_MAX_PIXELS = 24_000_000
DEFAULT_CONNECTION_LIMIT = 1000
DEFAULT_CHANNEL_TIMEOUT = 30
DEFAULT_BACKLOG = 1024


def _positive(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def register(subparsers) -> None:
    """Adds the ``serve`` command."""
    parser = subparsers.add_parser(
        "serve", help="serve pushed models over TF Serving's REST API (no Docker needed)",
        description="Serve the versions of a pushed model over TensorFlow Serving's REST API: "
                    "GET /v1/models/NAME[/versions/V|/labels/L][/metadata], POST "
                    "/v1/models/NAME[/versions/V|/labels/L]:predict and :classify. New versions "
                    "pushed into the folder are loaded without a restart; the latest serves by "
                    "default.")
    parser.add_argument("--model-dir", required=True,
                        help="the model's folder of numeric version folders, e.g. "
                             "imagepipe-output/serving/fashion_mnist")
    parser.add_argument("--model-name", default=None,
                        help="the name in request paths; default: the folder's name")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind; default 127.0.0.1 (this machine only; 0.0.0.0 "
                             "exposes the server to the network)")
    parser.add_argument("--port", type=int, default=8501,
                        help="REST port; default 8501 (TF Serving's); 0 picks a free one")
    parser.add_argument("--num-versions", type=int, default=2,
                        help="how many of the latest versions stay loaded (older ones can be "
                             "asked for by number or label); 0 loads all; default 2")
    parser.add_argument("--label", action="append", default=[], metavar="LABEL=VERSION",
                        help="version label, repeatable, e.g. --label stable=1795866253 "
                             "(requests to /labels/stable go to that version)")
    parser.add_argument("--poll-seconds", type=float, default=1.0,
                        help="how often the folder is scanned for new versions; default 1")
    parser.add_argument("--max-request-bytes", type=int,
                        default=DEFAULT_MAX_REQUEST_MB * 2**20,
                        help=f"largest request body accepted (larger ones get 413); "
                             f"default {DEFAULT_MAX_REQUEST_MB} MiB")
    parser.add_argument("--threads", type=_positive, default=8,
                        help="request worker threads; default 8")
    parser.add_argument("--max-pixels", type=_positive, default=DEFAULT_MAX_PIXELS,
                        help=f"most pixels (width x height, read from each image's header "
                             f"before anything is decoded) the images of one request may hold "
                             f"together; more get 400; default {DEFAULT_MAX_PIXELS:,}")
    parser.add_argument("--connection-limit", type=_positive, default=DEFAULT_CONNECTION_LIMIT,
                        help=f"open connections at most (idle ones included); at the limit new "
                             f"ones wait in the backlog; default {DEFAULT_CONNECTION_LIMIT}")
    parser.add_argument("--channel-timeout", type=_positive, default=DEFAULT_CHANNEL_TIMEOUT,
                        help=f"seconds without a byte after which a connection is closed (idle "
                             f"ones, and bodies sent slower); default {DEFAULT_CHANNEL_TIMEOUT}")
    parser.add_argument("--backlog", type=_positive, default=DEFAULT_BACKLOG,
                        help=f"connections the system queues while all are taken; default "
                             f"{DEFAULT_BACKLOG}")
    parser.add_argument("--no-warmup", action="store_true",
                        help="skip replaying assets.extra/tf_serving_warmup_requests on load")
    parser.set_defaults(func=_serve)


def parse_labels(values) -> Dict[str, int]:
    """Parses ``LABEL=VERSION`` strings.

    Raises:
      ValueError: naming the malformed value.
    """
    labels = {}
    for value in values:
        label, _, version = value.partition("=")
        if not label or not version.isdigit():
            raise ValueError(f"--label {value!r} is not LABEL=VERSION, e.g. stable=1795866253")
        labels[label] = int(version)
    return labels


def _check_model_dir(model_dir: str) -> Optional[str]:
    if "://" in model_dir:
        return None
    if not os.path.isdir(model_dir):
        return (f"model folder not found: {model_dir}\n  give the Pusher's "
                f"<serving_dir>/<model_name>, e.g. imagepipe-output/serving/fashion_mnist")
    if os.path.exists(os.path.join(model_dir, "saved_model.pb")):
        return (f"{model_dir} is a single SavedModel; give the folder above it, which holds "
                f"the numeric version folders")
    return None


def _stop_on_sigterm() -> None:
    def _raise(signum, frame):
        del signum, frame
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, _raise)


def _serve(args: argparse.Namespace) -> int:
    try:
        labels = parse_labels(args.label)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    problem = _check_model_dir(args.model_dir)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    from absl import logging  # pylint: disable=g-import-not-at-top
    from imagepipe.serving import repository, server  # pylint: disable=g-import-not-at-top
    logging.set_verbosity(logging.INFO)
    name = args.model_name or os.path.basename(os.path.normpath(args.model_dir))
    model = repository.ModelRepository(name, args.model_dir, num_versions=args.num_versions,
                                       labels=labels, poll_seconds=args.poll_seconds,
                                       warm_up=not args.no_warmup)
    limits = server.ConnectionLimits(connection_limit=args.connection_limit,
                                     channel_timeout=args.channel_timeout, backlog=args.backlog)
    local = server.LocalServer([model], host=args.host, port=args.port,
                               max_request_bytes=args.max_request_bytes, threads=args.threads,
                               max_pixels=args.max_pixels, limits=limits)
    _stop_on_sigterm()
    try:
        local.start()
        _print_banner(local, model)
        local.wait()
    except KeyboardInterrupt:
        print("imagepipe serve: stopping", file=sys.stderr)
    except OSError as error:
        print(f"error: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 2
    finally:
        local.stop()
    return 0


def _print_banner(local, model) -> None:
    try:
        states = ", ".join(f"{s.version} {s.state}" for s in model.status())
    except Exception:  # pylint: disable=broad-except  # no version yet
        states = "none yet; waiting for a push"
    print(f"imagepipe serve: model {model.name} from {model.base_path}\n"
          f"  versions: {states}\n"
          f"  REST API: {local.url}/v1/models/{model.name}  (Ctrl-C stops)", flush=True)
