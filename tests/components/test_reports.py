"""The photo-folder ingest report: a run summary counts what was skipped, the report lists it."""

import io
import json
import os

import pytest
from PIL import Image

from imagepipe.components import reports
from imagepipe.data import photo_folder
from imagepipe.testing import photo_fixtures

SPLITS = (("train", 14), ("eval", 3), ("test", 3))
CLASS_MAP = (("upper", ("upper",)), ("lower", ("lower",)), ("shoes", ("shoes",)))
LEFT_OUT, CORRUPT = 25, 2


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), "white").save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def report_path(tmp_path_factory) -> str:
    """The ingest report of a folder with hat/ left out (25 files) and 2 corrupt shoes."""
    base = tmp_path_factory.mktemp("report")
    root = str(base / "photos")
    photo_fixtures.write_photo_folder(root, ("upper", "lower", "shoes"), per_class=5, seed=2)
    os.makedirs(os.path.join(root, "hat"))
    for i in range(LEFT_OUT):
        with open(os.path.join(root, "hat", f"IMG_{i:04d}.jpg"), "wb") as f:
            f.write(_jpeg())
    for i in range(CORRUPT):
        with open(os.path.join(root, "shoes", f"broken-{i}.jpg"), "wb") as f:
            f.write(b"<html>not a jpeg</html>")
    scan = photo_folder.scan(root, CLASS_MAP)
    report = reports.FolderIngestReport.from_scan(
        scan, SPLITS, 1, photo_folder.assign_splits(scan.photos, SPLITS, 1))
    path = str(base / reports.INGEST_REPORT_FILE)
    report.write(path)
    return path


def _count_lines(text: str):
    return [line.strip() for line in text.splitlines()
            if line.strip().startswith(("left out:", "skipped:"))]


def test_run_summary_counts_the_skipped_files_per_folder_and_reason(report_path):
    from imagepipe.pipeline import results, summary  # pylint: disable=import-outside-toplevel
    run = results.RunSummary(run_id="run", components={},
                             ingest_report=reports.FolderIngestReport.read(report_path),
                             ingest_report_path=report_path)
    text = summary.format_summary(run, 1.0)
    assert _count_lines(text) == [
        f"left out: hat/ {LEFT_OUT} files (folder 'hat' is not in the class map)",
        f"skipped: shoes/ {CORRUPT} files (not_an_image), see {reports.INGEST_REPORT_FILE}"]
    assert f"{LEFT_OUT + CORRUPT} skipped (each listed in {report_path})" in text
    assert "IMG_0000.jpg" not in text and "broken-0.jpg" not in text

def test_the_report_still_lists_every_skipped_file(report_path):
    with open(report_path, encoding="utf-8") as f:
        entries = json.load(f)["skipped_files"]
    assert len(entries) == LEFT_OUT + CORRUPT
    reasons = [entry["reason"] for entry in entries]
    assert reasons.count(photo_folder.LEFT_OUT) == LEFT_OUT
    assert reasons.count("not_an_image") == CORRUPT
    report = reports.FolderIngestReport.read(report_path)
    assert report.skipped == len(report.skipped_files) == LEFT_OUT + CORRUPT


def test_inspect_lists_every_skipped_file(report_path):
    text = "\n".join(reports.FolderIngestReport.read(report_path).summary_lines())
    assert all(f"hat/IMG_{i:04d}.jpg" in text for i in range(LEFT_OUT))
    assert "shoes/broken-1.jpg" in text and not _count_lines(text)


def test_skipped_by_folder_counts_per_top_folder_in_reason_order():
    entries = [("a/x/1.jpg", "left_out"), ("README.txt", "outside_class_folder"),
               ("a/2.jpg", "empty"), ("a/3.jpg", "left_out"), (".git/", "hidden")]
    assert reports.skipped_by_folder(entries) == {
        ".": {"outside_class_folder": 1}, ".git": {"hidden": 1},
        "a": {"empty": 1, "left_out": 2}}
    assert list(reports.skipped_by_folder(entries)["a"]) == ["empty", "left_out"]
