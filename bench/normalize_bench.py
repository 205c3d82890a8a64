"""Benchmark: what a setting of the photo path (``normalize.Parameters``) costs and changes.

Normalizes the same photos (a folder of photos, by default the real
``../shared/photos/clothing/validation``) with the default parameters and with
the default changed by ``--set NAME=VALUE`` (by default ``closing=5``: the
pieces of a garment joined, decision 0029; ``weak_share=0.5``: the
hysteresis of decision 0028), one photo per call as a served request
normalizes it, in alternating rounds. Prints milliseconds per photo (p50,
p99) per setting, the share of photos whose normalized image changes and the
mean share of lit pixels of each.

    python bench/normalize_bench.py [--photos DIR] [--set closing=5] [--limit 200] [--rounds 3]
"""

from __future__ import annotations

import argparse
import dataclasses
import glob
import os
import platform
import subprocess
import time
from typing import Dict, List

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from imagepipe.components import normalize, preprocessing  # noqa: E402

DEFAULT_PHOTOS = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "photos",
                              "clothing", "validation")
LIT = 0.3  # a normalized pixel is lit above this


def photo_bytes(folder: str, limit: int) -> List[bytes]:
    """Up to ``limit`` JPEG/PNG files under ``folder``, spread evenly over its sorted list."""
    paths = sorted(p for p in glob.glob(os.path.join(folder, "**", "*"), recursive=True)
                   if p.lower().endswith((".jpg", ".jpeg", ".png")))
    if not paths:
        raise SystemExit(f"no photos under {folder}")
    chosen = paths[::max(1, len(paths) // limit)][:limit]
    return [tf.io.gfile.GFile(p, "rb").read() for p in chosen]


def normalizer(params: normalize.Parameters):
    """One photo's bytes -> its [28, 28] normalized image, as Transform decodes it; any size."""
    return tf.function(lambda data: preprocessing.decode_image(data, params=params)[..., 0],
                       input_signature=[tf.TensorSpec([], tf.string)])


def seconds_per_call(function, photos: List[bytes]) -> List[float]:
    """Seconds of one call per photo (the functions are traced and warm by then)."""
    seconds = []
    for photo in photos:
        start = time.perf_counter()
        function(photo)
        seconds.append(time.perf_counter() - start)
    return seconds


def parsed(changes: List[str]) -> Dict[str, object]:
    """``NAME=VALUE`` strings as Parameters fields, each value of its field's type.

    Raises:
      SystemExit: naming the change that is not ``NAME=VALUE`` of a known field.
    """
    fields = {field.name: type(getattr(normalize.DEFAULT, field.name))
              for field in dataclasses.fields(normalize.Parameters)}
    fields = {name: kind for name, kind in fields.items() if kind in (int, float)}
    values = {}
    for change in changes:
        name, _, value = change.partition("=")
        if name not in fields or not value:
            raise SystemExit(f"--set {change!r}: expected NAME=VALUE with NAME a number field of "
                             f"normalize.Parameters ({', '.join(sorted(fields))})")
        try:
            values[name] = fields[name](value)
        except ValueError:
            raise SystemExit(f"--set {change!r}: {name} takes {fields[name].__name__} values, "
                             f"not {value!r}") from None
    return values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", default=DEFAULT_PHOTOS)
    parser.add_argument("--set", dest="changes", action="append", metavar="NAME=VALUE",
                        help="a Parameters field and its value, against the default "
                             "(repeatable; default: closing=5)")
    parser.add_argument("--limit", type=int, default=200, help="photos normalized")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per setting")
    args = parser.parse_args()
    photos = photo_bytes(args.photos, args.limit)
    changes = args.changes or ["closing=5"]
    settings = {"default": normalize.DEFAULT,
                " ".join(changes): dataclasses.replace(normalize.DEFAULT, **parsed(changes))}
    functions = {name: normalizer(params) for name, params in settings.items()}
    outputs = {name: np.stack([f(p).numpy() for p in photos]) for name, f in functions.items()}
    seconds: Dict[str, List[float]] = {name: [] for name in settings}
    for _ in range(args.rounds):
        for name, function in functions.items():
            seconds[name] += seconds_per_call(function, photos)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, check=False).stdout.strip()
    print(f"{platform.node()}, {os.cpu_count()} cores, commit {commit}; {len(photos)} photos "
          f"of {os.path.abspath(args.photos)}, {args.rounds} alternating rounds")
    first, second = outputs.values()
    changed = np.mean(np.abs(first - second).max(axis=(1, 2)) > 0.05)
    print(f"{'setting':>20} {'p50 ms':>8} {'p99 ms':>8} {'lit share':>9}")
    for name in settings:
        values = 1000 * np.asarray(seconds[name])
        print(f"{name:>20} {np.percentile(values, 50):>8.2f} {np.percentile(values, 99):>8.2f} "
              f"{np.mean(outputs[name] > LIT):>9.3f}")
    print(f"normalized image changed (a pixel by more than 0.05): {changed:.1%} of the photos")


if __name__ == "__main__":
    main()
