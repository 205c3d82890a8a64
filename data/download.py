"""Downloads the canonical Fashion-MNIST files and checks their published MD5s.

    python -m imagepipe.data.download [--dest DIR]
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from . import fashion_mnist


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Downloads into ``--dest`` (default: ~/.cache/imagepipe/fashion-mnist)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", default=None, help="target folder")
    args = parser.parse_args(argv)
    destination = args.dest or fashion_mnist.default_data_dir()
    try:
        paths = fashion_mnist.download_canonical(destination)
    except IOError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for path in paths:
        print(f"ok {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
