"""The Dockerfile checked without a Docker engine: its pinned stack, its copies, its entrypoint.

What a compiled spec's tasks need from the image: the module their command
runs (``python -m ...kubeflow_v2_run_executor``, TFX's KubeflowV2 entrypoint)
and imagepipe's executors, installed with the pins the tests ran with. Pre-flight
(``imagepipe preflight``) runs the tasks in this environment on the claim that
the image holds the same; these tests hold the Dockerfile to that claim.
"""

import importlib
import importlib.metadata
import os
import re

import pytest

from tests.test_constraints import pins

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCKERFILE = os.path.join(ROOT, "Dockerfile")


def _lines():
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    with open(DOCKERFILE, encoding="utf-8") as f:
        text = f.read()
    text = re.sub(r"\\\n", " ", re.sub(r"(?m)^\s*#.*\n", "", text))
    return [line.strip() for line in text.splitlines() if line.strip()]


def _args():
    return dict(re.match(r"ARG (\w+)=(\S+)", line).groups() for line in _lines()
                if line.startswith("ARG ") and "=" in line)


def _install_line():
    runs = [line for line in _lines() if line.startswith("RUN ") and "pip install" in line]
    assert len(runs) == 1, runs
    return runs[0]


def _image_check_modules():
    """The modules the image's build step imports to check itself."""
    check = re.search(r'python -c "([^"]+)"', _install_line()).group(1)
    return [name.strip() for statement in check.split(";")
            for name in statement.strip().removeprefix("import ").split(",") if name.strip()]


def test_the_image_installs_the_repos_pins_of_the_base_images_tfx():
    args = _args()
    install = _install_line()
    assert '-c "constraints/${STACK}.txt"' in install and '".[kubeflow]"' in install
    stack = os.path.join(ROOT, "constraints", f"{args['STACK']}.txt")
    assert os.path.exists(stack), stack
    assert pins(stack)["tfx"] == args["TFX_IMAGE"].rsplit(":", 1)[1]


def test_the_other_stack_the_dockerfile_names_pairs_its_image_and_pins():
    with open(DOCKERFILE, encoding="utf-8") as f:
        text = f.read()
    pairs = re.findall(r"TFX_IMAGE=\S+:(\S+) --build-arg STACK=(\S+)\.", text)
    assert pairs
    for tfx_version, stack in pairs:
        assert pins(os.path.join(ROOT, "constraints", f"{stack}.txt"))["tfx"] == tfx_version


def test_this_environment_has_the_pins_the_image_installs():
    """Pre-flight runs the tasks here on the claim that this is what the image holds."""
    tfx_version = importlib.metadata.version("tfx")
    folder = os.path.join(ROOT, "constraints")
    stack = next(path for path in (os.path.join(folder, name) for name in sorted(os.listdir(folder)))
                 if pins(path)["tfx"] == tfx_version)
    different = {name: (version, importlib.metadata.version(name))
                 for name, version in pins(stack).items()
                 if importlib.metadata.version(name) != version}
    assert not different, f"installed versions differ from {os.path.basename(stack)}: {different}"


def test_every_package_folder_is_copied_into_the_image():
    copied = {part.rstrip("/") for line in _lines() if line.startswith("COPY ")
              for part in line.split()[1:-1]}
    assert {"setup.py", "README.md", "constraints"} <= copied
    assert {"components", "data", "pipeline", "serving"} <= copied


@pytest.fixture(scope="module")
def compiled_spec(tmp_path_factory):
    pytest.importorskip("kfp.pipeline_spec.pipeline_spec_pb2")
    from imagepipe.pipeline import cli
    folder = tmp_path_factory.mktemp("spec")
    path = str(folder / "spec.yaml")
    assert cli.main(["compile", "fashion-mnist", "--target", "kubeflow", "--image", "img",
                     "--pipeline-root", str(folder / "root"), "--data-dir", str(folder),
                     "--output", path]) == 0
    return path


def test_the_entrypoint_the_spec_calls_is_the_one_the_image_checks(compiled_spec):
    from imagepipe.pipeline.preflight import spec as spec_lib
    spec = spec_lib.load(compiled_spec)
    commands = {tuple(task.executor["container"]["command"]) for task in spec.tasks.values()
                if task.kind == spec_lib.CONTAINER}
    entrypoints = {command[2] for command in commands}
    assert all(command[:2] == ("python", "-m") for command in commands), commands
    assert entrypoints == {"tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor"}
    assert entrypoints <= set(_image_check_modules())
    assert not [line for line in _lines() if line.startswith(("ENTRYPOINT", "CMD"))], \
        "the compiled spec sets each task's command; the base image's entrypoint stays"


def test_every_module_the_image_and_the_spec_name_imports_here(compiled_spec):
    from imagepipe.pipeline.preflight import code_paths, spec as spec_lib
    for module in _image_check_modules():
        importlib.import_module(module)
    assert code_paths.problems(spec_lib.load(compiled_spec)) == []
