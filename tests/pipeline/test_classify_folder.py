"""imagepipe classify-folder on a known case: rows, skipped files, resumption, options.

The model is the brightness model of test_photo_eval_folders (a real
SavedModel with imagepipe's serving and class_names signatures): a grey photo
is dark, mid or bright by its level, so every row is known in advance.
"""

import csv
import json
import os

import pytest
from PIL import Image

from imagepipe.pipeline import cli, photo_eval
from tests.pipeline.test_photo_eval_folders import CLASSES, save_brightness_model

# relative path -> grey level; 80 is dark for version 7 (85, 170), mid for version 9 (60, 100).
LEVELS = {"a.png": 20, "b.png": 240, "nested/c.png": 128, "nested/deeper/d.png": 80,
          "e.png": 200, "f.png": 30}
SECRET = "do not quote me"


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """Grey PNGs with a text file, a cut JPEG, a cut PNG and a link leading outside."""
    root = tmp_path_factory.mktemp("unlabelled")
    for i, (path, level) in enumerate(sorted(LEVELS.items())):
        os.makedirs(os.path.dirname(root / path), exist_ok=True)
        Image.new("L", (16 + i, 16), level).save(root / path)
    (root / "notes.txt").write_text(SECRET)
    # Pillow decodes this cut PNG of one grey level; the model's graph refuses it.
    (root / "nested" / "torn.png").write_bytes((root / "b.png").read_bytes()[:60])
    Image.effect_noise((64, 64), 50).save(root / "broken.jpg")
    (root / "broken.jpg").write_bytes((root / "broken.jpg").read_bytes()[:300])
    outside = tmp_path_factory.mktemp("outside") / "x.png"
    Image.new("L", (16, 16), 20).save(outside)
    os.symlink(outside, root / "link.png")
    return str(root)


SKIPPED = {"broken.jpg": "corrupt", "link.png": "outside_folder",
           "nested/torn.png": "model_rejected", "notes.txt": "not_an_image"}


@pytest.fixture(scope="module")
def serving(tmp_path_factory):
    """brightness/7 (thresholds 85, 170) and brightness/9 (60, 100)."""
    base = tmp_path_factory.mktemp("serving") / "brightness"
    save_brightness_model(str(base / "7"))
    save_brightness_model(str(base / "9"), low=60, high=100)
    return str(base)


def _classify(photos, serving, prefix, *options):
    return cli.main(["classify-folder", photos, "--model-dir", serving, "--output",
                     str(prefix), *options])


def _jsonl(prefix):
    with open(f"{prefix}.jsonl") as f:
        return [json.loads(line) for line in f]


def _csv(prefix):
    with open(f"{prefix}.csv", newline="") as f:
        return list(csv.reader(f))


def test_rows_are_the_models_answers_and_bad_files_are_listed(photos, serving, tmp_path,
                                                              capsys):
    prefix = tmp_path / "out" / "rows"
    assert _classify(photos, serving, prefix, "--version", "7") == 0
    out = capsys.readouterr().out
    rows = {row["path"]: row for row in _jsonl(prefix)}
    assert len(rows) == len(LEVELS) + len(SKIPPED)
    model = photo_eval.local_model(os.path.join(serving, "7"))
    for path in LEVELS:
        with open(os.path.join(photos, path), "rb") as f:
            answer = model.predict([f.read()])[0]
        assert rows[path]["class"] == answer.class_name
        assert list(rows[path]["probabilities"].values()) == pytest.approx(answer.probabilities)
        assert list(rows[path]["probabilities"]) == list(CLASSES)
    assert {p: rows[p]["class"] for p in ("a.png", "b.png", "nested/c.png")} == {
        "a.png": "dark", "b.png": "bright", "nested/c.png": "mid"}
    assert {path: rows[path]["skipped"] for path in SKIPPED} == SKIPPED
    table = _csv(prefix)
    assert table[0] == ["path", "class", "p_dark", "p_mid", "p_bright", "skipped"]
    assert [(r[0], r[1], r[-1]) for r in table[1:]] == [
        (r["path"], r.get("class", ""), r.get("skipped", "")) for r in _jsonl(prefix)]
    skipped = _csv(f"{prefix}.skipped")
    assert {(r[0], r[1]) for r in skipped[1:]} == set(SKIPPED.items())
    assert "throughput:" in out and "photos/s" in out and "notes.txt: not_an_image" in out
    for suffix in (".csv", ".jsonl", ".skipped.csv"):
        assert SECRET not in open(f"{prefix}{suffix}").read()


def test_a_rerun_after_a_torn_write_finishes_every_photo_once(photos, serving, tmp_path):
    full, partial = tmp_path / "full", tmp_path / "partial"
    assert _classify(photos, serving, full) == 0
    with open(f"{full}.jsonl") as f:
        lines = f.readlines()
    with open(f"{full}.meta.json") as f:
        meta = f.read()
    with open(f"{partial}.meta.json", "w") as f:
        f.write(meta)
    with open(f"{partial}.jsonl", "w") as f:  # three rows finished, the fourth torn
        f.write("".join(lines[:3]) + lines[3][:25])
    with open(f"{partial}.csv", "w") as f:
        f.write("path,class\nhalf a ro")
    assert _classify(photos, serving, partial) == 0
    assert _jsonl(partial) == _jsonl(full)
    assert _csv(partial) == _csv(full)
    assert _classify(photos, serving, partial) == 0  # nothing left: nothing added
    assert _jsonl(partial) == _jsonl(full)


def test_the_rows_are_flushed_batch_by_batch_as_the_progress_says(photos, serving, tmp_path,
                                                                   capsys):
    assert _classify(photos, serving, tmp_path / "p", "--batch-size", "4") == 0
    progress = [line for line in capsys.readouterr().err.splitlines()
                if line.startswith("classified")]
    assert [line.split()[1] for line in progress] == ["0/10", "4/10", "8/10", "10/10"]


def test_version_picks_a_version_and_the_latest_is_the_default(photos, serving, tmp_path):
    assert _classify(photos, serving, tmp_path / "latest") == 0
    assert _classify(photos, serving, tmp_path / "seven", "--version", "7") == 0
    latest = {r["path"]: r.get("class") for r in _jsonl(tmp_path / "latest")}
    seven = {r["path"]: r.get("class") for r in _jsonl(tmp_path / "seven")}
    assert (latest["nested/deeper/d.png"], seven["nested/deeper/d.png"]) == ("mid", "dark")


def test_a_rerun_with_another_model_version_is_refused(photos, serving, tmp_path, capsys):
    assert _classify(photos, serving, tmp_path / "p", "--version", "7") == 0
    assert _classify(photos, serving, tmp_path / "p") == 2
    assert "belongs to another run" in capsys.readouterr().err


@pytest.mark.parametrize("case", ["photos", "model", "version"])
def test_bad_input_names_the_culprit_and_exits_2(photos, serving, tmp_path, capsys, case):
    args = {"photos": (str(tmp_path / "nowhere"), serving, ()),
            "model": (photos, str(tmp_path / "no-model"), ()),
            "version": (photos, serving, ("--version", "8"))}[case]
    assert _classify(args[0], args[1], tmp_path / "p", *args[2]) == 2
    err = capsys.readouterr().err
    assert {"photos": "nowhere", "model": "no-model", "version": "versions there: 7, 9"}[
        case] in err
