"""TFX's copy of itself for Beam workers: skipped for the local runners, kept for the others."""

import os
import tempfile

import pytest
from tfx.utils import dependency_utils

from imagepipe.pipeline import beam_options, beam_staging

DATAFLOW = ["--runner=DataflowRunner", "--project=p", "--region=r"]
DOCKER_WORKERS = ["--runner=DirectRunner", "--environment_type=DOCKER"]
BEAMS_DEFAULT_RUNNER = ["--direct_running_mode=in_memory", "--direct_num_workers=1"]


@pytest.fixture(name="temp_folder")
def _temp_folder(tmp_path, monkeypatch):
    """A private temporary folder for everything made with ``tempfile`` in the test."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture(name="installed")
def _installed():
    beam_staging.install()
    yield
    beam_staging.uninstall()


@pytest.fixture(name="tfx_own")
def _tfx_own():
    """TFX's own function, whatever a pipeline run earlier in this process installed."""
    installed_before = dependency_utils.make_beam_dependency_flags
    beam_staging.uninstall()
    yield
    dependency_utils.make_beam_dependency_flags = installed_before


def _extra_packages(args):
    return [a.split("=", 1)[1] for a in args if a.startswith("--extra_package=")]


@pytest.mark.parametrize("args", [beam_options.local_defaults(2), beam_options.local_defaults(8),
                                  beam_options.container_defaults(), BEAMS_DEFAULT_RUNNER,
                                  ["--runner=DirectRunner", "--environment_type=loopback"]])
def test_the_local_runners_options_are_left_as_they_are(installed, temp_folder, args):
    assert dependency_utils.make_beam_dependency_flags(list(args)) == list(args)
    assert not os.listdir(temp_folder)


@pytest.mark.parametrize("given", [DATAFLOW, DOCKER_WORKERS])
def test_other_runners_and_docker_workers_still_get_tfx_as_an_extra_package(
        installed, temp_folder, given):
    args = dependency_utils.make_beam_dependency_flags(list(given))
    assert args[:len(given)] == given
    (package,) = _extra_packages(args)
    assert os.path.isfile(package) and package.startswith(str(temp_folder))


def test_without_it_tfx_copies_itself_for_a_local_runner_too(tfx_own, temp_folder):
    args = list(beam_options.local_defaults(2))
    (package,) = _extra_packages(dependency_utils.make_beam_dependency_flags(args))
    assert os.path.getsize(package) > 1_000_000 and package.startswith(str(temp_folder))


@pytest.mark.parametrize("args, name", [
    ([], None),
    (["--runner=FnApiRunner"], "FnApiRunner"),
    (["--runner=apache_beam.runners.portability.fn_api_runner.FnApiRunner"], "FnApiRunner"),
    (DATAFLOW, "DataflowRunner"),
])
def test_runner_name(args, name):
    assert beam_staging.runner_name(args) == name


@pytest.mark.parametrize("args, here", [
    (BEAMS_DEFAULT_RUNNER, True), (["--runner=PrismRunner"], True),
    (DOCKER_WORKERS, False), (["--runner=FlinkRunner"], False), (DATAFLOW, False),
])
def test_runs_here(args, here):
    assert beam_staging.runs_here(args) is here
