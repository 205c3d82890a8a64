"""imagepipe evaluate on a known case: recall per source folder and models side by side.

The models are real SavedModels with imagepipe's serving signatures that
classify a photo by its mean brightness (dark, mid, bright), so every count is
known in advance; the photos are uniform grey PNGs in folders that a class
map merges into classes.
"""

import json
import os
import shutil

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from imagepipe.components import features
from imagepipe.pipeline import cli, photo_eval

CLASSES = ("dark", "mid", "bright")
DARK, MID, BRIGHT = 20, 128, 240
# folder -> grey level of each photo; the class map: dark = coal + night, bright = paper + snow.
FOLDERS = {"coal": [DARK] * 3, "night": [DARK, DARK, MID, MID],
           "paper": [BRIGHT, MID, MID, DARK], "snow": [BRIGHT] * 4}
CLASS_MAP = {"dark": ["coal", "night"], "bright": ["paper", "snow"]}


class _Brightness(tf.Module):
    """Mean grey level below ``low``: dark; above ``high``: bright; else mid."""

    def __init__(self, low: float, high: float):
        super().__init__()
        self.low, self.high = low, high

    def _grey(self, image_bytes):
        def decode(data):
            image = tf.io.decode_image(data, channels=1, expand_animations=False)
            return tf.image.resize(tf.cast(image, tf.float32) / 255.0, [8, 8])
        return tf.map_fn(decode, image_bytes, fn_output_signature=tf.float32)

    @tf.function(input_signature=[
        tf.TensorSpec([None], tf.string, name=features.SERVING_INPUT_KEY)])
    def serve(self, image_bytes):
        level = 255.0 * tf.reduce_mean(self._grey(image_bytes), axis=[1, 2, 3])
        ids = tf.cast(level > self.low, tf.int64) + tf.cast(level > self.high, tf.int64)
        return {features.CLASS_IDS_OUTPUT: ids,
                features.CLASS_NAMES_OUTPUT: tf.gather(tf.constant(CLASSES), ids),
                features.PROBABILITIES_OUTPUT: 0.1 + 0.7 * tf.one_hot(ids, len(CLASSES))}

    @tf.function(input_signature=[
        tf.TensorSpec([None], tf.string, name=features.SERVING_INPUT_KEY)])
    def normalized(self, image_bytes):
        return {features.NORMALIZED_OUTPUT: self._grey(image_bytes)}

    @tf.function(input_signature=[])
    def names(self):
        return {features.CLASS_NAMES_OUTPUT: tf.constant(CLASSES)}


def save_brightness_model(path: str, low: float = 85, high: float = 170,
                          class_names_signature: bool = True) -> str:
    """Saves the brightness model with imagepipe's signatures at ``path``; returns it."""
    module = _Brightness(low, high)
    signatures = {
        features.SERVING_SIGNATURE: module.serve.get_concrete_function(),
        features.NORMALIZED_SIGNATURE: module.normalized.get_concrete_function()}
    if class_names_signature:
        signatures[features.CLASS_NAMES_SIGNATURE] = module.names.get_concrete_function()
    tf.saved_model.save(module, path, signatures=signatures)
    return path


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """(photo folder, class map file) of uniform grey PNGs, each of another width."""
    root = tmp_path_factory.mktemp("grey")
    sizes = iter(range(16, 64))  # every photo a size of its own: no two files are duplicates
    for folder, levels in FOLDERS.items():
        os.makedirs(root / "photos" / folder)
        for i, level in enumerate(levels):
            Image.new("L", (next(sizes), 16), level).save(root / "photos" / folder / f"{i}.png")
    class_map = root / "classes.json"
    class_map.write_text(json.dumps(CLASS_MAP))
    return str(root / "photos"), str(class_map)


@pytest.fixture(scope="module")
def serving(tmp_path_factory):
    """Two serving model folders: brightness/7 (thresholds 85, 170) and lenient/8 (60, 100)."""
    base = tmp_path_factory.mktemp("serving")
    save_brightness_model(str(base / "brightness" / "7"))
    save_brightness_model(str(base / "lenient" / "8"), low=60, high=100)
    return str(base)


def test_recall_per_source_folder_counts_each_folders_predictions(folders, serving):
    photos, class_map = folders
    model = photo_eval.local_model(os.path.join(serving, "brightness"))
    assert model.class_names == list(CLASSES) and model.label == "brightness/7"
    evaluation = photo_eval.evaluate(photos, model, class_map)
    by_folder = {entry.folder: entry for entry in evaluation.folders()}
    assert list(by_folder) == ["coal", "night", "paper", "snow"]  # class order, then name
    assert {name: (e.true_class, e.predicted, e.recall) for name, e in by_folder.items()} == {
        "coal": ("dark", {"dark": 3, "mid": 0, "bright": 0}, 1.0),
        "night": ("dark", {"dark": 2, "mid": 2, "bright": 0}, 0.5),
        "paper": ("bright", {"dark": 1, "mid": 2, "bright": 1}, 0.25),
        "snow": ("bright", {"dark": 0, "mid": 0, "bright": 4}, 1.0)}
    assert evaluation.recall == {"dark": 5 / 7, "bright": 5 / 8}
    assert evaluation.near_empty_share == pytest.approx(6 / 15)  # the dark photos are black


def test_evaluate_prints_and_writes_the_recall_per_source_folder(folders, serving, tmp_path,
                                                                  capsys):
    photos, class_map = folders
    code = cli.main(["evaluate", "--photos", photos, "--class-map", class_map, "--model-dir",
                     os.path.join(serving, "brightness"), "--output", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0
    table = out[out.index("recall per source folder"):].splitlines()
    assert table[1].split() == ["folder", "class", "photos", "dark", "mid", "bright", "recall"]
    assert [row.split() for row in table[2:6]] == [
        ["coal", "dark", "3", "3", "0", "0", "100.00%"],
        ["night", "dark", "4", "2", "2", "0", "50.00%"],
        ["paper", "bright", "4", "1", "2", "1", "25.00%"],
        ["snow", "bright", "4", "0", "0", "4", "100.00%"]]
    report = json.load(open(tmp_path / photo_eval.REPORT_JSON))
    assert report["recall_per_folder"]["paper"] == {
        "class": "bright", "photos": 4, "predicted": {"dark": 1, "mid": 2, "bright": 1},
        "recall": 0.25}
    assert {row["folder"] for row in report["photos"]} == set(FOLDERS)


def test_without_a_merging_class_map_no_folder_table_is_printed(folders, serving, tmp_path,
                                                                capsys):
    photos, _ = folders
    class_map = tmp_path / "same.json"
    class_map.write_text(json.dumps({"dark": "coal", "bright": "snow"}))
    assert cli.main(["evaluate", "--photos", photos, "--class-map", str(class_map),
                     "--model-dir", os.path.join(serving, "brightness"),
                     "--output", str(tmp_path / "out")]) == 0
    assert "recall per source folder" in capsys.readouterr().out  # coal is not called dark
    shutil.copytree(os.path.join(photos, "coal"), tmp_path / "own" / "dark")
    shutil.copytree(os.path.join(photos, "snow"), tmp_path / "own" / "bright")
    assert cli.main(["evaluate", "--photos", str(tmp_path / "own"), "--model-dir",
                     os.path.join(serving, "brightness"), "--output", str(tmp_path / "o2")]) == 0
    out = capsys.readouterr().out
    assert "recall per class: dark 100.00%, bright 100.00%" in out
    assert "recall per source folder" not in out


def test_two_model_dirs_are_compared_side_by_side(folders, serving, tmp_path, capsys):
    photos, class_map = folders
    code = cli.main(["evaluate", "--photos", photos, "--class-map", class_map,
                     "--model-dir", os.path.join(serving, "brightness"),
                     "--model-dir", os.path.join(serving, "lenient"), "--output", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0
    assert f"brightness/7: {os.path.join(serving, 'brightness', '7')} (version 7)" in out
    assert f"lenient/8: {os.path.join(serving, 'lenient', '8')} (version 8)" in out
    rows = {" ".join(line.split()[:-2]): line.split()[-2:] for line in out.splitlines()
            if line.startswith("    ")}
    assert rows[""] == ["brightness/7", "lenient/8"]
    # lenient calls 128 bright: night's mid photos and paper's become bright.
    assert rows["photos"] == ["15", "15"]
    assert rows["accuracy"] == ["66.67%", "80.00%"]
    assert rows["recall night (dark)"] == ["50.00%", "50.00%"]
    assert rows["recall paper (bright)"] == ["25.00%", "75.00%"]
    assert rows["recall dark"] == ["71.43%", "71.43%"]
    assert rows["near-empty share"] == ["40.00%", "40.00%"]
    comparison = json.load(open(tmp_path / photo_eval.COMPARISON_JSON))
    assert [m["label"] for m in comparison["models"]] == ["brightness/7", "lenient/8"]
    assert [m["accuracy"] for m in comparison["models"]] == pytest.approx([10 / 15, 12 / 15])
    assert comparison["models"][1]["recall_per_folder"]["paper"]["predicted"] == {
        "dark": 1, "mid": 0, "bright": 3}
    for model in comparison["models"]:
        assert json.load(open(model["report"]))["accuracy"] == model["accuracy"]
    assert sorted(os.listdir(tmp_path)) == ["brightness-7", photo_eval.COMPARISON_JSON,
                                            "lenient-8"]


def test_the_same_model_twice_gets_two_names(folders, serving, tmp_path, capsys):
    photos, class_map = folders
    model_dir = os.path.join(serving, "brightness")
    assert cli.main(["evaluate", "--photos", photos, "--class-map", class_map, "--model-dir",
                     model_dir, "--model-dir", model_dir, "--output", str(tmp_path)]) == 0
    assert "brightness/7 #2: " in capsys.readouterr().out
    assert sorted(os.listdir(tmp_path)) == ["brightness-7", "brightness-7-2",
                                            photo_eval.COMPARISON_JSON]


def test_a_model_without_the_class_names_signature_learns_them_from_its_answers(
        folders, tmp_path):
    photos, class_map = folders
    old = save_brightness_model(str(tmp_path / "old"), class_names_signature=False)
    model = photo_eval.local_model(old)
    assert model.class_names is None
    evaluation = photo_eval.evaluate(photos, model, class_map)
    assert evaluation.class_names == list(CLASSES)
    assert np.asarray(evaluation.confusion_matrix).sum() == 15


def test_a_missing_model_dir_fails_naming_it(folders, tmp_path, capsys):
    photos, _ = folders
    assert cli.main(["evaluate", "--photos", photos, "--model-dir",
                     str(tmp_path / "nothing")]) == 2
    assert f"{tmp_path / 'nothing'} holds neither saved_model.pb" in capsys.readouterr().err
