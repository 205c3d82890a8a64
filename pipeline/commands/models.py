"""``imagepipe models``: list the registered architectures."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    """Adds the ``models`` command."""
    parser = subparsers.add_parser("models", help="list the registered architectures")
    parser.set_defaults(func=_list_models)


def _list_models(args: argparse.Namespace) -> int:
    del args
    from imagepipe.components import models  # pylint: disable=g-import-not-at-top
    for name in models.names():
        doc = (models.get(name).__doc__ or "").strip().splitlines()[0]
        print(f"{name:10s} {doc}")
    return 0
