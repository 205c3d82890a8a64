"""Safe publishing of models into the TF Serving layout."""

import json
import os

import pytest

from imagepipe.components import features, pusher


def fake_saved_model(path, content=b"graph"):
    """A folder that passes for a SavedModel (``saved_model.pb`` and variables)."""
    os.makedirs(os.path.join(path, "variables"))
    with open(os.path.join(path, "saved_model.pb"), "wb") as f:
        f.write(content)
    with open(os.path.join(path, "variables", "variables.index"), "wb") as f:
        f.write(b"index")


def test_versions_only_grow_and_appear_complete(tmp_path):
    base = str(tmp_path / "serving" / "model")
    fake_saved_model(str(tmp_path / "m1"))
    fake_saved_model(str(tmp_path / "m2"))
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
    fake_saved_model(str(tmp_path / "m1"))
    first = pusher.publish(str(tmp_path / "m1"), base, {"model_uri": "m1"})
    again = pusher.publish(str(tmp_path / "m1"), base, {"model_uri": "m1"})
    assert first == again and len(features.serving_versions(base)) == 1


def test_a_failed_copy_leaves_no_version_and_no_staging(tmp_path):
    base = str(tmp_path / "model")
    fake_saved_model(str(tmp_path / "good"))
    good = pusher.publish(str(tmp_path / "good"), base, {"model_uri": "good"})
    with pytest.raises(FileNotFoundError, match="missing is not a SavedModel"):
        pusher.publish(str(tmp_path / "missing"), base, {"model_uri": "missing"})
    assert features.serving_versions(base) == [int(os.path.basename(good))]
    assert os.listdir(base) == [os.path.basename(good)]


def test_next_version_is_the_time_when_above_existing(tmp_path):
    assert pusher.next_version(str(tmp_path / "none"), now=1234.5) == 1234


def test_the_card_is_written_into_the_new_version_and_never_into_a_published_one(tmp_path):
    base = str(tmp_path / "model")
    fake_saved_model(str(tmp_path / "m1"))
    fake_saved_model(str(tmp_path / "m2"))

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


def artifact(tmp_path, kind, name):
    """An artifact of ``kind`` whose folder is ``tmp_path/name``."""
    made = kind()
    made.uri = str(tmp_path / name)
    os.makedirs(made.uri, exist_ok=True)
    return made


def run_pusher(tmp_path, inputs, accept=False):
    """Runs the Pusher's executor on a blessed fake model and ``inputs`` (key -> artifact).

    Returns the PushedModel; the versions go to ``tmp_path/serving/shop``.
    """
    from tfx.types import standard_artifacts
    from tfx.utils import proto_utils
    from tfx.proto import pusher_pb2

    model = artifact(tmp_path, standard_artifacts.Model, "model")
    if not os.path.exists(os.path.join(model.uri, "Format-Serving")):
        fake_saved_model(os.path.join(model.uri, "Format-Serving"))
    blessing = artifact(tmp_path, standard_artifacts.ModelBlessing, "blessing")
    blessing.set_int_custom_property("blessed", 1)
    pushed = artifact(tmp_path, standard_artifacts.PushedModel, f"pushed-{accept}")
    destination = pusher_pb2.PushDestination(filesystem=pusher_pb2.PushDestination.Filesystem(
        base_directory=str(tmp_path / "serving" / "shop")))
    pusher.Executor().Do(
        {"model": [model], "model_blessing": [blessing],
         **{key: [value] for key, value in inputs.items()}},
        {"pushed_model": [pushed]},
        {"push_destination": proto_utils.proto_to_json(destination),
         pusher.ACCEPT_DRIFT_KEY: int(accept)})
    return pushed


def _push(tmp_path, drift_report, accept):
    """Runs the Pusher's executor on a blessed fake model and SpanDrift's ``drift_report``."""
    from tfx.types import standard_artifacts
    from imagepipe.components import drift, span_drift

    report = artifact(tmp_path, standard_artifacts.ExampleAnomalies, "drift")
    drift_report.write(os.path.join(report.uri, drift.REPORT_FILE))
    return run_pusher(tmp_path, {span_drift.DRIFT_KEY: report}, accept)


def _drift_report(class_distance):
    """SpanDrift's report of span 2 against span 1 with this class distance, threshold 0.2."""
    from imagepipe.components import drift
    return drift.DriftReport(
        newest_span=2, previous_span=1, threshold=0.2,
        measures=(drift.DriftMeasure("label_name", drift.L_INFINITY, class_distance, 0.2),))


def test_drift_holds_a_blessed_model_back_unless_accepted(tmp_path):
    drifted = _drift_report(0.5)
    held = _push(tmp_path, drifted, accept=False)
    assert held.get_int_custom_property("pushed") == 0
    assert held.get_string_custom_property(pusher.HELD_PROPERTY) == drifted.reason()
    assert not os.path.exists(tmp_path / "serving" / "shop")
    accepted = _push(tmp_path, drifted, accept=True)
    assert accepted.get_int_custom_property("pushed") == 1
    assert accepted.get_string_custom_property(pusher.ACCEPTED_PROPERTY) == drifted.reason()
    assert len(features.serving_versions(str(tmp_path / "serving" / "shop"))) == 1
    card = open(os.path.join(accepted.get_string_custom_property("pushed_destination"),
                             "model_card.md")).read()
    assert "Drift: span 2 against span 1: DRIFT (threshold 0.2)." in card
    assert "- L-infinity distance: label_name 0.500 (over)" in card
    assert f"Pushed although the {drifted.reason()}, accepted with --accept-drift" in card


def test_no_drift_pushes_and_records_nothing_of_drift(tmp_path):
    pushed = _push(tmp_path, _drift_report(0.1), accept=False)
    assert pushed.get_int_custom_property("pushed") == 1
    assert not pushed.has_custom_property(pusher.HELD_PROPERTY)
    assert not pushed.has_custom_property(pusher.ACCEPTED_PROPERTY)
