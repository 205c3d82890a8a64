"""Shared fixtures: tiny generated Fashion-MNIST files and one real pipeline run on them."""

from __future__ import annotations

import os
import tempfile
import warnings

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
warnings.filterwarnings("ignore", category=FutureWarning, module=r"google\..*")


@pytest.fixture(scope="session")
def tiny_fashion_mnist(tmp_path_factory) -> str:
    """Folder of canonical-format IDX files: 10 labels x (40 train + 10 test) images."""
    from imagepipe.testing import fixtures
    directory = str(tmp_path_factory.mktemp("fashion_mnist"))
    fixtures.write_fashion_mnist(directory, train_per_label=40, test_per_label=10, seed=7)
    return directory


def tiny_config(data_dir: str, output: str, **overrides):
    """The PipelineConfig the CLI would build, for a tiny, fast run."""
    from imagepipe.components import settings
    from imagepipe.components.sources.fashion_mnist import FashionMnistSettings
    from imagepipe.pipeline import beam_options, config
    values = dict(
        pipeline_name="imagepipe-test",
        pipeline_root=os.path.join(output, "pipeline_root"),
        serving_dir=os.path.join(output, "serving"),
        metadata_path=os.path.join(output, "metadata.sqlite"),
        data=FashionMnistSettings(source="idx", data_dir=data_dir),
        training=settings.TrainingSettings(model_name="arch5", epochs=3, batch_size=32),
        evaluation=settings.EvaluationSettings(min_accuracy=0.8),
        beam_pipeline_args=beam_options.local_defaults(),
        code_fingerprint="test")
    values.update(overrides)
    return config.PipelineConfig(**values)


def run_temp_folder(config) -> str:
    """Where ``tempfile`` put its files during the ``pipeline_run`` fixture's run."""
    return os.path.join(os.path.dirname(config.pipeline_root), "tmp")


@pytest.fixture(scope="session")
def pipeline_run(tiny_fashion_mnist, tmp_path_factory):
    """Runs the whole pipeline once on the tiny data; returns (config, summary)."""
    from imagepipe.pipeline import local_runner, results
    output = str(tmp_path_factory.mktemp("run"))
    config = tiny_config(tiny_fashion_mnist, output)
    saved, tempfile.tempdir = tempfile.tempdir, run_temp_folder(config)
    os.makedirs(tempfile.tempdir)
    try:
        local_runner.run(config)
    finally:
        tempfile.tempdir = saved
    return config, results.latest_run(config.metadata_path, config.pipeline_name)


def _shares_a_module_fixture(item) -> bool:
    """Whether a test uses a module-scoped fixture of ours (made once per module)."""
    definitions = item._fixtureinfo.name2fixturedefs  # pylint: disable=protected-access
    return any(defs and defs[-1].scope == "module" and defs[-1].baseid.startswith("tests/")
               for defs in (definitions.get(name) for name in item.fixturenames))


def pytest_collection_modifyitems(config, items):
    """Marks the tests that share an expensive fixture with one xdist group.

    Under ``--dist loadgroup`` (scripts/test.sh) the tests of one group run in one
    worker, so the one pipeline run and each module's trained models are made once;
    every other test goes to whichever worker is free. A module with any test on
    ``pipeline_run`` joins that group whole, so its own module fixtures are made once too.
    """
    del config
    on_pipeline_run = {item.module.__name__ for item in items
                       if "pipeline_run" in item.fixturenames}
    for item in items:
        module = item.module.__name__
        if "pipeline_run" in item.fixturenames:
            group = "pipeline_run"
        elif _shares_a_module_fixture(item):
            group = "pipeline_run" if module in on_pipeline_run else module
        else:
            continue
        item.add_marker(pytest.mark.xdist_group(group))
