"""Data sources come from a registry: a fourth one is one module, found by every command."""

import os
import subprocess

import numpy as np
import pytest

from imagepipe.components import sources
from imagepipe.pipeline import cli, pipeline, results
from imagepipe.testing import fixtures


def test_the_built_in_sources_and_their_targets():
    assert sources.names()[:3] == ["idx", "tfds", "folder"]
    targets = sources.targets()
    assert [s.name for s in targets["fashion-mnist"]] == ["idx", "tfds"]
    assert [s.name for s in targets["folder"]] == ["folder"]
    with pytest.raises(KeyError, match="unknown data source 'csv'; known sources: idx, tfds"):
        sources.get("csv")


def test_a_source_is_registered_once():
    with pytest.raises(ValueError, match="'idx' is registered twice"):
        sources.register(type(sources.get("idx"))())


@pytest.fixture
def npz_data(tmp_path):
    from tests import npz_source  # registering it is all it takes
    labels = np.array([0, 1] * 60)
    images = fixtures.generate_images(np.where(labels == 0, 0, 1).astype(np.uint8), seed=4)
    folder = tmp_path / "npz"
    folder.mkdir()
    np.savez(folder / npz_source.FILE, images=images, labels=labels,
             class_names=np.array(["tops", "trousers"]))
    yield str(folder)
    sources.unregister(npz_source.NAME)


def test_a_fourth_source_runs_the_whole_pipeline_from_the_cli(npz_data, tmp_path, capsys):
    output = tmp_path / "out"
    assert "npz" in sources.names()
    code = cli.main(["run", "npz", "--data-dir", npz_data, "--output", str(output),
                     "--epochs", "2", "--batch-size", "16", "--min-accuracy", "0.6"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "npz data: 120 images; splits: train 84, eval 18, test 18" in out
    summary = results.latest_run(str(output / "metadata.sqlite"), "imagepipe-npz")
    assert summary.class_names == ["tops", "trousers"]
    assert summary.components[pipeline.EXAMPLE_GEN_ID] == "COMPLETE"
    assert summary.pushed and os.path.basename(os.path.dirname(
        summary.pushed_destination)) == "npz"


def test_the_fourth_source_needed_no_edit_outside_its_module():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    found = subprocess.run(["git", "grep", "-l", "npz_source", "--", "*.py", ":!tests"],
                           cwd=root, capture_output=True, text=True)
    assert found.stdout == "", found.stdout
