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
    rows = [(name, models.architecture(name)) for name in models.names()]
    names = max(len("name"), *(len(name) for name, _ in rows))
    width = max(len("options"), *(len(", ".join(a.takes)) for _, a in rows))
    print(f"{'name':{names}s} {'for':14s} {'options':{width}s}  description")
    for name, architecture in rows:
        print(f"{name:{names}s} {architecture.inputs:14s} {', '.join(architecture.takes):{width}s}"
              f"  {architecture.summary}")
    return 0
