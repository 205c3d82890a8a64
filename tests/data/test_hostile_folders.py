"""Hostile photo folders: ingestion never reads outside the folder or past the size limit,
skips images no model input can be made from, and never quotes a file's content.

Each case runs through ``imagepipe inspect`` (the report users read) and
through the pipeline's own FolderExampleGen settings (``run folder`` options ->
the component's execution properties -> its scan).
"""

import json
import os

import pytest
from PIL import Image

from imagepipe.components.folder_ingest import executor, planning
from imagepipe.components.sources import photo_folder as folder_source
from imagepipe.data import folder_walk, images, photo_folder
from imagepipe.pipeline import cli
from imagepipe.pipeline.commands import run

SECRET = b"root:*:20228:0:99999:7:::\n"  # what /etc/shadow starts with
SPLITS = (("train", 14), ("eval", 3), ("test", 3))


def _photo(path, size=(64, 48), colour=(200, 30, 30)):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.new("RGB", size, colour).save(path)


@pytest.fixture()
def hostile(tmp_path):
    """Classes a and b of three photos each, then the hostile entries, all in class a."""
    root = tmp_path / "photos"
    for name in ("a", "b"):
        for i in range(3):
            _photo(str(root / name / f"{i}.png"), colour=(40 * i, 100 if name == "a" else 0, 9))
    _photo(str(root / "a" / "wide.png"), size=(20000, 2))
    _photo(str(root / "a" / "long.png"), size=(1000, 4))  # too thin at 224, fine at 256
    (root / "a" / "big.jpg").write_bytes(b"\0" * (3 * 2**20))
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "shadow").write_bytes(SECRET)
    _photo(str(outside / "outside.png"), colour=(1, 2, 3))
    os.symlink(outside, root / "a" / "etc")
    os.symlink(outside / "outside.png", root / "a" / "linked-out.png")
    _photo(str(root / ".store" / "inside.png"), colour=(7, 8, 9))  # a hidden folder, inside
    os.symlink(root / ".store" / "inside.png", root / "a" / "linked-in.png")
    return str(root)


def _report(capsys, root, *options):
    assert cli.main(["inspect", root, "--json", "-", *options]) == 0
    text = capsys.readouterr().out
    return text, {entry["path"]: (entry["reason"], entry["detail"])
                  for entry in json.loads(text)["skipped_files"]}


def test_inspect_skips_and_names_every_hostile_entry_by_default(hostile, capsys):
    text, skipped = _report(capsys, hostile)
    assert skipped["a/wide.png"] == (photo_folder.TOO_THIN, "20000x2: fitted into the 224x224 "
                                                           "model input it would be 223x0 pixels")
    assert skipped["a/long.png"][0] == photo_folder.TOO_THIN
    assert skipped["a/etc/"][0] == photo_folder.OUTSIDE_FOLDER  # one entry, nothing read in it
    assert "symbolic link to a folder outside the photo folder" in skipped["a/etc/"][1]
    assert skipped["a/linked-out.png"][0] == photo_folder.OUTSIDE_FOLDER
    assert skipped["a/big.jpg"][0] == images.NOT_AN_IMAGE  # under the 128 MiB default
    assert "a/linked-in.png" not in skipped  # a link inside the folder is followed
    assert not any(path.startswith("a/etc/") and path != "a/etc/" for path in skipped)
    assert "root:" not in text and "\\u0000" not in text


def test_options_change_what_inspect_says(hostile, capsys):
    _, skipped = _report(capsys, hostile, "--max-file-mb", "1", "--image-size", "256",
                         "--follow-links")
    assert skipped["a/big.jpg"] == (photo_folder.TOO_LARGE, "3,145,728 bytes, more than the "
                                                           "limit of 1,048,576 (--max-file-mb); "
                                                           "not read")
    assert "a/long.png" not in skipped  # 1000x4 keeps a pixel of height at 256
    assert skipped["a/wide.png"][0] == photo_folder.TOO_THIN
    assert "a/etc/outside.png" not in skipped  # followed, ingested (the link: its duplicate)
    assert skipped["a/linked-out.png"][0] == photo_folder.DUPLICATE
    assert skipped["a/etc/shadow"] == (images.NOT_AN_IMAGE, "content is not a recognised "
                                                                 "image (26 bytes, no image "
                                                                 "signature)")


def test_no_report_ever_holds_what_a_file_outside_holds(hostile, capsys):
    for options in ((), ("--follow-links",)):
        text, _ = _report(capsys, hostile, *options)
        assert "root:" not in text and SECRET.decode().strip() not in text


def test_run_folder_options_reach_the_example_gen_scan(hostile, tmp_path):
    args = cli.build_parser().parse_args([
        "run", "folder", hostile, "--output", str(tmp_path / "out"), "--image-size", "256",
        "--max-file-mb", "1", "--follow-links"])
    data = run.build_config(args).data
    component = folder_source.FOLDER.example_gen(data, dict(SPLITS))
    limits = executor.scan_limits(component.exec_properties)
    assert limits == photo_folder.ScanLimits(max_file_bytes=2**20, image_size=256,
                                             max_side=512, follow_links=True)
    _, _, report = planning.plan(hostile, data.class_map, SPLITS, 1, data.max_pixels, limits)
    reasons = {entry.path: entry.reason for entry in report.skipped_files}
    assert reasons["a/big.jpg"] == photo_folder.TOO_LARGE
    assert reasons["a/wide.png"] == photo_folder.TOO_THIN
    assert "a/long.png" not in reasons and "a/etc/outside.png" not in reasons


def test_the_pipeline_defaults_skip_thin_images_and_links_outside(hostile, tmp_path):
    args = cli.build_parser().parse_args(["run", "folder", hostile, "--output",
                                          str(tmp_path / "out")])
    data = run.build_config(args).data
    component = folder_source.FOLDER.example_gen(data, dict(SPLITS))
    _, _, report = planning.plan(hostile, data.class_map, SPLITS, 1, data.max_pixels,
                                 executor.scan_limits(component.exec_properties))
    reasons = {entry.path: entry.reason for entry in report.skipped_files}
    assert reasons["a/wide.png"] == reasons["a/long.png"] == photo_folder.TOO_THIN
    assert reasons["a/etc/"] == reasons["a/linked-out.png"] == photo_folder.OUTSIDE_FOLDER


def test_reading_stops_at_the_limit_of_an_endless_file():
    with pytest.raises(folder_walk.FileTooLarge, match="more than 1,048,576 bytes"):
        folder_walk.read_file("/dev/zero", 2**20)  # read whole, it would never end


def test_a_file_that_grows_past_the_limit_after_listing_is_too_large(tmp_path):
    root = tmp_path / "photos"
    _photo(str(root / "a" / "p.png"))
    candidate = folder_walk.Candidate(("a", "p.png"), str(root / "a" / "p.png"), 10, 0)
    skipped = folder_walk.read_candidate(candidate, 20)  # listed at 10 bytes, holds more
    assert (skipped.reason, skipped.path) == (photo_folder.TOO_LARGE, "a/p.png")

