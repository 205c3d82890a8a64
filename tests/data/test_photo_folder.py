"""Scanning photo folders: every entry ingested or skipped with its reason; stratified splits."""

import collections
import os

import pytest

from imagepipe.components import reports
from imagepipe.data import class_map as class_map_lib
from imagepipe.data import images, photo_folder, splits
from imagepipe.testing import photo_fixtures


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    """A messy folder: 3 classes x 12 good photos, every bad kind, a left-out folder."""
    root = str(tmp_path_factory.mktemp("messy") / "photos")
    folder = photo_fixtures.write_messy_folder(root, per_class=12, seed=3,
                                               left_out_folder="other")
    yield folder
    photo_fixtures.remove(root)


@pytest.fixture(scope="module")
def messy_scan(messy):
    return photo_folder.scan(messy.root, messy.class_map)


@pytest.fixture(scope="module")
def messy_report(messy_scan):
    return reports.FolderIngestReport.from_scan(
        messy_scan, photo_folder_splits(), 1001,
        photo_folder.assign_splits(messy_scan.photos, photo_folder_splits(), 1001))


def test_messy_folder_gives_exactly_the_expected_report(messy, messy_scan):
    assert {p.path: p.class_name for p in messy_scan.photos} == messy.expected_photos
    assert {s.path: s.reason for s in messy_scan.skipped} == messy.expected_skipped


def test_every_kind_of_bad_entry_is_covered(messy_scan):
    reasons = {entry.reason for entry in messy_scan.skipped}
    # Reachable, but with other limits or as another user: see test_images and
    # tests/data/test_hostile_folders.py (too thin, too large, unreadable as root).
    elsewhere = {images.CORRUPT, photo_folder.TOO_THIN, photo_folder.TOO_LARGE}
    if os.geteuid() == 0:  # permissions do not stop root: the messy folder links outside
        elsewhere.add(photo_folder.UNREADABLE)
    assert reasons == set(photo_folder.REASONS) - elsewhere


def entries_on_disk(root: str) -> int:
    """Counts what is on disk, without the scanner: every file, link, FIFO one entry; a
    hidden folder or a link to a folder one entry, not searched."""
    count = 0
    for folder, folders, files in os.walk(os.fsencode(root)):  # bytes: names not UTF-8
        count += len(files)
        whole = [name for name in folders if name.startswith(b".")
                 or os.path.islink(os.path.join(folder, name))]
        count += len(whole)
        folders[:] = [name for name in folders if name not in whole]
    return count


def test_every_entry_on_disk_is_seen_once_ingested_or_skipped(messy, messy_scan,
                                                              messy_report):
    on_disk = entries_on_disk(messy.root)
    assert on_disk == 64  # 3 x 12 photos, 3 left out, 25 bad entries (counted by hand)
    assert len(messy_scan.photos) + len(messy_scan.skipped) == on_disk == messy.seen
    assert messy_scan.seen == on_disk
    assert len({entry.path for entry in messy_scan.photos + messy_scan.skipped}) == on_disk
    assert messy_report.seen == on_disk
    assert messy_report.ingested + messy_report.skipped == on_disk


def test_counts_add_up(messy_report):
    report = messy_report
    assert report.skipped == sum(report.skipped_by_reason.values())
    assert report.skipped == len(report.skipped_files)
    assert report.ingested == sum(c.ingested for c in report.classes)
    assert report.ingested == sum(report.split_totals.values())
    for name, split in report.splits.items():
        assert split.total == sum(split.per_class.values()), name
    assert sum(report.formats.values()) == report.ingested
    assert reports.FolderIngestReport.from_json(report.to_json()) == report


def photo_folder_splits():
    return (("train", 14), ("eval", 3), ("test", 3))


def test_good_photos_cover_every_format_and_colour_mode(messy, messy_scan):
    assert {p.format for p in messy_scan.photos} == set(images.SUPPORTED_FORMAT_NAMES)
    assert {"RGB", "RGBA", "L", "P", "CMYK", "I;16"} <= {p.mode for p in messy_scan.photos}
    assert any(p.orientation == 6 for p in messy_scan.photos)
    assert set(messy.variants.values()) == set(photo_fixtures.VARIANTS)


def test_skip_details_name_the_problem(messy_scan):
    details = {s.path: s.detail for s in messy_scan.skipped}
    assert "HEIC" in details["pens/IMG_5000.HEIC"]
    assert "ICO" in details["pencils/favicon.ico"]
    assert details["markers/notes.jpg"] == ("content is not a recognised image (39 bytes, no "
                                            "image signature)")  # never what the file holds
    assert "markers/shared-photo.jpg" in details["pencils/from-the-web.jpg"]
    assert "markers/IMG_0001.jpg" in details["markers/copy of IMG_0001.jpg"]
    assert "not in the class map" in details["other/IMG_0001.jpg"]


def test_default_class_map_is_one_class_per_sub_folder(messy):
    folder_scan = photo_folder.scan(messy.root)
    assert folder_scan.default_class_map
    assert folder_scan.class_names == ("markers", "other", "pencils", "pens")
    assert folder_scan.counts()["other"] == 3
    assert not any(s.reason == photo_folder.LEFT_OUT for s in folder_scan.skipped)


def test_class_map_groups_folders_into_classes(messy):
    grouped = class_map_lib.from_mapping({"writing": ["pens", "pencils"], "markers": "markers"})
    folder_scan = photo_folder.scan(messy.root, grouped)
    assert folder_scan.class_names == ("writing", "markers")
    assert folder_scan.counts() == {"writing": 24, "markers": 12}
    by_path = {s.path: s.reason for s in folder_scan.skipped}
    # pens + pencils are one class now: the web photo shared with markers still conflicts.
    assert by_path["pencils/from-the-web.jpg"] == photo_folder.CONFLICTING_DUPLICATE
    assert by_path["other/IMG_0002.jpg"] == photo_folder.LEFT_OUT


def test_same_content_in_two_folders_of_one_class_is_a_plain_duplicate(tmp_path):
    root = tmp_path / "photos"
    photo_fixtures.write_photo_folder(str(root), ("a", "b", "c"), per_class=3, seed=1,
                                      variants=["png_rgb"])
    (root / "a" / "IMG_0001.png").write_bytes((root / "b" / "IMG_0001.png").read_bytes())
    folder_scan = photo_folder.scan(str(root), (("ab", ("a", "b")), ("c", ("c",))))
    skipped = {s.path: s.reason for s in folder_scan.skipped}
    assert skipped == {"b/IMG_0001.png": photo_folder.DUPLICATE}


def test_pixel_limit_is_configurable(tmp_path):
    root = tmp_path / "photos"
    photo_fixtures.write_photo_folder(str(root), ("a", "b", "c"), per_class=2, seed=1,
                                      sizes=(100, 100), variants=["png_rgb"])
    folder_scan = photo_folder.scan(str(root), max_pixels=100 * 80 - 1)
    big = [s for s in folder_scan.skipped if s.reason == images.DECOMPRESSION_BOMB]
    assert big and all("more than the limit of 7,999" in s.detail for s in big)
    assert folder_scan.seen == 6


def test_a_class_without_usable_images_is_a_problem(tmp_path):
    root = tmp_path / "photos"
    photo_fixtures.write_photo_folder(str(root), ("a", "b"), per_class=4, seed=1,
                                      variants=["jpeg_rgb"])
    os.makedirs(root / "empty-class")
    (root / "c").mkdir()
    (root / "c" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    folder_scan = photo_folder.scan(str(root))
    problems = photo_folder.problems(folder_scan, ["train", "eval", "test"])
    assert len(problems) == 2
    assert problems[0].startswith("class 'c' has no usable image: 1 file skipped "
                                  "(c/broken.jpg: corrupt)")
    assert problems[1] == "class 'empty-class' has no usable image: no file found in empty-class/"


def test_too_few_images_for_every_split_is_a_problem(tmp_path):
    root = tmp_path / "photos"
    photo_fixtures.write_photo_folder(str(root), ("a", "b"), per_class=2, seed=1,
                                      variants=["png_rgb"])
    folder_scan = photo_folder.scan(str(root))
    problems = photo_folder.problems(folder_scan, ["train", "eval", "test"])
    assert problems == [
        "class 'a' has 2 usable images; each of the 3 splits (train, eval, test) needs at least "
        "one: add photos of 'a'",
        "class 'b' has 2 usable images; each of the 3 splits (train, eval, test) needs at least "
        "one: add photos of 'b'"]
    with pytest.raises(photo_folder.FolderError, match="class 'a' has 2 usable images"):
        photo_folder.assign_splits(folder_scan.photos, photo_folder_splits(), 1)


def test_missing_folder_and_folder_without_sub_folders_are_named(tmp_path):
    with pytest.raises(photo_folder.FolderError, match="photo folder not found: .*nowhere"):
        photo_folder.scan(str(tmp_path / "nowhere"))
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "photo.jpg").write_bytes(b"x")
    with pytest.raises(photo_folder.FolderError, match="has no sub-folder"):
        photo_folder.scan(str(tmp_path / "flat"))


def _photos(counts):
    return [photo_folder.Photo(path=f"{c}/{i}.jpg", class_name=c, folder=c,
                               content_hash=f"{c}{i:04d}", size_bytes=1, format="JPEG",
                               width=1, height=1, mode="RGB")
            for c, n in counts.items() for i in range(n)]


def test_stratified_split_keeps_every_class_in_every_split_3x10():
    photos = _photos({"markers": 10, "pencils": 10, "pens": 10})
    assignment = photo_folder.assign_splits(photos, photo_folder_splits(), 1001)
    per_split = collections.Counter((assignment[p.path], p.class_name) for p in photos)
    for split in ("train", "eval", "test"):
        for name in ("markers", "pencils", "pens"):
            assert per_split[(split, name)] >= 1, (split, name)
    assert [per_split[(s, "pens")] for s in ("train", "eval", "test")] == [7, 2, 1]


@pytest.mark.parametrize("total", [3, 4, 5, 7, 10, 20, 33, 34, 100, 1001])
def test_split_counts_are_exact_with_one_at_least(total):
    counts = splits.split_counts(total, (14, 3, 3))
    assert sum(counts) == total and min(counts) >= 1
    if total >= 7:  # every quota is at least one: plain largest-remainder rounding
        for count, ratio in zip(counts, (0.7, 0.15, 0.15)):
            assert abs(count - total * ratio) < 1.0


def test_split_is_deterministic_and_independent_of_file_names():
    photos = _photos({"a": 20, "b": 13})
    first = photo_folder.assign_splits(photos, photo_folder_splits(), 7)
    renamed = [photo_folder.Photo(**{**p.__dict__, "path": "x/" + p.path}) for p in photos]
    second = photo_folder.assign_splits(list(reversed(renamed)), photo_folder_splits(), 7)
    assert {k: v for k, v in first.items()} == {k[2:]: v for k, v in second.items()}
    other_seed = photo_folder.assign_splits(photos, photo_folder_splits(), 8)
    assert other_seed != first
    assert collections.Counter(other_seed.values()) == collections.Counter(first.values())


def test_adding_a_photo_moves_few_others():
    photos = _photos({"a": 40})
    before = photo_folder.assign_splits(photos, photo_folder_splits(), 1)
    after = photo_folder.assign_splits(photos + _photos({"a": 41})[-1:], photo_folder_splits(), 1)
    moved = sum(1 for path, split in before.items() if after[path] != split)
    assert moved <= 2


def test_listing_fingerprint_changes_with_the_listing_only(tmp_path):
    root = tmp_path / "photos"
    photo_fixtures.write_photo_folder(str(root), ("a", "b"), per_class=2, seed=1,
                                      variants=["png_rgb"])
    first = photo_folder.listing_fingerprint(str(root))
    assert photo_folder.listing_fingerprint(str(root)) == first
    os.symlink("gone.jpg", root / "a" / "dangling.jpg")  # must not break fingerprinting
    second = photo_folder.listing_fingerprint(str(root))
    assert second != first
    (root / "b" / "new.png").write_bytes((root / "a" / "IMG_0001.png").read_bytes())
    assert photo_folder.listing_fingerprint(str(root)) != second


def test_hidden_and_system_names():
    for name in (".DS_Store", "._IMG_1.jpg", "Thumbs.db", "thumbs.db", "desktop.ini",
                 "__MACOSX", "~$draft.jpg", ".git"):
        assert photo_folder.is_hidden(name), name
    for name in ("IMG_0001.jpg", "thumbs.jpg", "desk.ini.jpg"):
        assert not photo_folder.is_hidden(name), name


def test_class_map_folders_that_do_not_exist_are_reported(messy):
    mapping = (("markers", ("markers", "erasers")), ("writing", ("pens", "pencils")))
    folder_scan = photo_folder.scan(messy.root, mapping)
    assert folder_scan.missing_folders == ("erasers",)
    report = reports.FolderIngestReport.from_scan(folder_scan, photo_folder_splits(), 1)
    assert report.missing_folders == ("erasers",) and report.splits is None
