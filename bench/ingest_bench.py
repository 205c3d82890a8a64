"""Benchmark: photo-folder ingestion throughput beside a plain Pillow loop.

Runs, in the same invocation and on the same folder (generated, messy and
photo-like unless ``--folder`` is given):

* ``baseline``: what a notebook does -- a plain loop over the class folders
  that opens each file with Pillow, decodes it and converts it to RGB,
  skipping whatever raises. No validation report, no hashing, no output.
* ``scan``: :func:`imagepipe.data.photo_folder.scan` (every entry looked at,
  every image fully decoded once, hashed, duplicates found), with the default
  thread pool and with one thread.
* ``examples``: what the ExampleGen's Beam stage does per accepted photo:
  read again, check the hash, normalise (EXIF, RGB, longer side 512) and
  encode PNG, build the tf.Example.
* ``component``: the real ``FolderExampleGen`` alone in a LocalDagRunner
  pipeline (scan + Beam DirectRunner + TFRecord writing + metadata).

Figures are images/s over the images each phase delivers; nothing is asserted.

    python bench/ingest_bench.py [--folder DIR] [--per-class 100] [--min-width 640]
                                 [--max-width 1600] [--no-component]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import tempfile
import time
from typing import Callable, List, Tuple

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from PIL import Image  # noqa: E402

from imagepipe.data import images, photo_folder
from imagepipe.testing import photo_fixtures  # noqa: E402


def baseline(root: str) -> int:
    """Plain Pillow loop over ``root/<class>/**``: open, decode, RGB; count what loads.

    Only regular files are opened: opening a FIFO would block the loop forever.
    """
    loaded = 0
    for class_name in sorted(os.listdir(root)):
        folder = os.path.join(root, class_name)
        if not os.path.isdir(folder):
            continue
        for directory, _, names in os.walk(folder):
            for name in names:
                path = os.path.join(directory, name)
                if not os.path.isfile(path):
                    continue
                try:
                    with Image.open(path) as image:
                        image.convert("RGB")
                    loaded += 1
                except Exception:  # pylint: disable=broad-except  (the notebook way)
                    pass
    return loaded


def build_examples(root: str, folder_scan: photo_folder.FolderScan) -> int:
    """The ExampleGen's per-photo work, in the executor's thread pool; returns bytes written."""
    # pylint: disable-next=g-import-not-at-top
    from imagepipe.components.folder_ingest import examples as folder_examples
    class_ids = {name: i for i, name in enumerate(folder_scan.class_names)}
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        examples = pool.map(lambda p: folder_examples.build_example(
            root, p, class_ids[p.class_name], images.DEFAULT_MAX_SIDE,
            images.DEFAULT_MAX_PIXELS), folder_scan.photos)
        return sum(example.ByteSize() for example in examples)


def run_component(root: str, work_dir: str) -> float:
    """Runs FolderExampleGen alone with LocalDagRunner; returns its wall time in seconds."""
    from tfx import v1 as tfx  # pylint: disable=g-import-not-at-top
    # pylint: disable-next=g-import-not-at-top
    from imagepipe.components.folder_ingest import component
    example_gen = component.FolderExampleGen(
        input_base=root, class_map=photo_folder.default_class_map(root),
        split_ratios={"train": 14, "eval": 3, "test": 3}, split_seed=1001)
    pipeline = tfx.dsl.Pipeline(
        pipeline_name="ingest-bench", pipeline_root=os.path.join(work_dir, "root"),
        components=[example_gen], enable_cache=False,
        metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(
            os.path.join(work_dir, "metadata.sqlite")))
    start = time.perf_counter()
    tfx.orchestration.LocalDagRunner().run(pipeline)
    return time.perf_counter() - start


def timed(function: Callable, *args) -> Tuple[float, object]:
    start = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folder", help="an existing photo folder (default: generate one)")
    parser.add_argument("--per-class", type=int, default=100)
    parser.add_argument("--min-width", type=int, default=640)
    parser.add_argument("--max-width", type=int, default=1600)
    parser.add_argument("--no-component", action="store_true",
                        help="skip the LocalDagRunner run of the component")
    args = parser.parse_args()
    work_dir = tempfile.mkdtemp(prefix="ingest-bench-")
    root = args.folder
    if not root:
        root = os.path.join(work_dir, "photos")
        seconds, _ = timed(photo_fixtures.write_messy_folder, root,
                           photo_fixtures.DEFAULT_CLASSES, args.per_class, 0,
                           (args.min_width, args.max_width))
        print(f"generated {root} in {seconds:.1f} s")
    rows: List[Tuple[str, float, int]] = []
    seconds, loaded = timed(baseline, root)
    rows.append(("baseline: Pillow open + decode + RGB, 1 thread", seconds, loaded))
    seconds, folder_scan = timed(photo_folder.scan, root)
    rows.append((f"scan: validate + hash, {os.cpu_count()} threads", seconds,
                 len(folder_scan.photos)))
    seconds, _ = timed(lambda: photo_folder.scan(root, workers=1))
    rows.append(("scan: validate + hash, 1 thread", seconds, len(folder_scan.photos)))
    seconds, size = timed(build_examples, root, folder_scan)
    rows.append((f"examples: read, check, normalise, PNG, tf.Example ({size / 2**20:.0f} MiB)",
                 seconds, len(folder_scan.photos)))
    rows.append(("scan + examples (the ExampleGen's work, in-process)",
                 rows[1][1] + rows[3][1], len(folder_scan.photos)))
    if not args.no_component:
        seconds = run_component(root, work_dir)
        rows.append(("FolderExampleGen component (LocalDagRunner, Beam DirectRunner)", seconds,
                     len(folder_scan.photos)))
    photos = folder_scan.photos
    mebibytes = sum(photo.size_bytes for photo in photos) / 2**20
    megapixels = sum(photo.width * photo.height for photo in photos) / 1e6 / max(1, len(photos))
    print(f"\nfolder: {root}\n  {folder_scan.seen} entries = {len(photos)} images "
          f"({mebibytes:.0f} MiB, {megapixels:.2f} MP average) + {len(folder_scan.skipped)} "
          f"skipped; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    width = max(len(name) for name, _, _ in rows)
    print(f"  {'phase':<{width}}  {'seconds':>8}  {'images':>6}  {'images/s':>9}")
    for name, seconds, count in rows:
        print(f"  {name:<{width}}  {seconds:8.2f}  {count:6d}  {count / seconds:9.1f}")


if __name__ == "__main__":
    main()
