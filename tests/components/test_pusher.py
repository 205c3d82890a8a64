"""Safe publishing of models into the TF Serving layout."""

import json
import os

import pytest

from imagepipe.components import features, pusher


def _fake_saved_model(path, content=b"graph"):
    os.makedirs(os.path.join(path, "variables"))
    with open(os.path.join(path, "saved_model.pb"), "wb") as f:
        f.write(content)
    with open(os.path.join(path, "variables", "variables.index"), "wb") as f:
        f.write(b"index")


def test_versions_only_grow_and_appear_complete(tmp_path):
    base = str(tmp_path / "serving" / "model")
    _fake_saved_model(str(tmp_path / "m1"))
    _fake_saved_model(str(tmp_path / "m2"))
    os.makedirs(os.path.join(base, "9999999999"))  # a version from the future
    first = pusher.publish(str(tmp_path / "m1"), base, {"model_uri": "m1"})
    second = pusher.publish(str(tmp_path / "m2"), base, {"model_uri": "m2"})
    assert int(os.path.basename(first)) == 10000000000
    assert int(os.path.basename(second)) == 10000000001
    assert features.serving_versions(base) == [9999999999, 10000000000, 10000000001]
    assert os.path.exists(os.path.join(second, "saved_model.pb"))
    record = json.load(open(os.path.join(second, pusher.PUSH_RECORD)))
    assert record["source"] == {"model_uri": "m2"}
    assert not [n for n in os.listdir(base) if n.startswith(".")]  # no staging left


def test_the_same_model_is_not_published_twice(tmp_path):
    base = str(tmp_path / "model")
    _fake_saved_model(str(tmp_path / "m1"))
    first = pusher.publish(str(tmp_path / "m1"), base, {"model_uri": "m1"})
    again = pusher.publish(str(tmp_path / "m1"), base, {"model_uri": "m1"})
    assert first == again and len(features.serving_versions(base)) == 1


def test_a_failed_copy_leaves_no_version_and_no_staging(tmp_path):
    base = str(tmp_path / "model")
    _fake_saved_model(str(tmp_path / "good"))
    good = pusher.publish(str(tmp_path / "good"), base, {"model_uri": "good"})
    with pytest.raises(FileNotFoundError, match="missing is not a SavedModel"):
        pusher.publish(str(tmp_path / "missing"), base, {"model_uri": "missing"})
    assert features.serving_versions(base) == [int(os.path.basename(good))]
    assert os.listdir(base) == [os.path.basename(good)]


def test_next_version_is_the_time_when_above_existing(tmp_path):
    assert pusher.next_version(str(tmp_path / "none"), now=1234.5) == 1234


def test_the_card_is_written_into_the_new_version_and_never_into_a_published_one(tmp_path):
    base = str(tmp_path / "model")
    _fake_saved_model(str(tmp_path / "m1"))
    _fake_saved_model(str(tmp_path / "m2"))

    def card(version):
        return {"model_card.md": f"# card of version {version}\n"}

    first = pusher.publish(str(tmp_path / "m1"), base, {"model_uri": "m1"}, card)
    assert open(os.path.join(first, "model_card.md")).read() == (
        f"# card of version {os.path.basename(first)}\n")

    def broken(version):
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        pusher.publish(str(tmp_path / "m2"), base, {"model_uri": "m2"}, broken)
    assert os.listdir(base) == [os.path.basename(first)]  # no half version, no staging
    again = pusher.publish(str(tmp_path / "m1"), base, {"model_uri": "m1"},
                           lambda version: {"model_card.md": "overwritten"})
    assert again == first and "overwritten" not in open(os.path.join(first, "model_card.md")).read()
