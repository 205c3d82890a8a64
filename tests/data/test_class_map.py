"""Class map files of photo folders: JSON and YAML, validation that names the file."""

import json

import pytest

from imagepipe.data import class_map


def test_yaml_and_json_give_the_same_ordered_map(tmp_path):
    yaml_file = tmp_path / "classes.yaml"
    yaml_file.write_text("upper: [t-shirt, shirt, dress]\nlower: trousers\n")
    json_file = tmp_path / "classes.json"
    json_file.write_text(json.dumps({"upper": ["t-shirt", "shirt", "dress"], "lower": "trousers"}))
    expected = (("upper", ("t-shirt", "shirt", "dress")), ("lower", ("trousers",)))
    assert class_map.load(str(yaml_file)) == expected
    assert class_map.load(str(json_file)) == expected
    assert class_map.class_names(expected) == ("upper", "lower")
    assert class_map.folder_to_class(expected)["dress"] == "upper"
    assert class_map.from_json(class_map.to_json(expected)) == expected


def test_default_map_is_one_class_per_folder_sorted():
    assert class_map.from_folders(["pens", "markers", "pencils"]) == (
        ("markers", ("markers",)), ("pencils", ("pencils",)), ("pens", ("pens",)))


@pytest.mark.parametrize("text, message", [
    ("[a, b]", "expected a mapping"),
    ("{}", "no class defined"),
    ("a: [x]\nb: [x]\n", "folder 'x' is in two classes, 'a' and 'b'"),
    ("a: []\n", "class 'a' has no folder"),
    ("a: [x/y]\n", "without slashes"),
    ("a: {x: 1}\n", "expected a folder name or a list"),
    ("a: [x\n", "not valid JSON/YAML"),
])
def test_bad_maps_are_refused_naming_the_file(tmp_path, text, message):
    path = tmp_path / "map.yaml"
    path.write_text(text)
    with pytest.raises(class_map.ClassMapError) as raised:
        class_map.load(str(path))
    assert str(path) in str(raised.value) and message in str(raised.value)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(class_map.ClassMapError, match="nowhere.yaml: cannot be read"):
        class_map.load(str(tmp_path / "nowhere.yaml"))
