"""The folders are the architecture: who may import whom (docs/design.md's layout table)."""

import ast
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# folder -> the imagepipe packages its modules may import
ALLOWED = {
    "data": {"data"},
    "components": {"components", "data"},
    "pipeline": {"pipeline", "components", "data", "serving"},  # the CLI serves and predicts
    "serving": {"serving", "components"},
    "testing": {"testing", "components", "data"},
}


def _imports(path: str):
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def _modules(folder: str):
    for base, _, files in os.walk(os.path.join(ROOT, folder)):
        for name in files:
            if name.endswith(".py"):
                yield os.path.join(base, name)


@pytest.mark.parametrize("folder", sorted(ALLOWED))
def test_a_folder_imports_only_what_the_layout_allows(folder):
    wrong = []
    for path in _modules(folder):
        for module in _imports(path):
            parts = module.split(".")
            if parts[0] == "imagepipe" and len(parts) > 1 and parts[1] not in ALLOWED[folder]:
                wrong.append(f"{os.path.relpath(path, ROOT)} imports {module}")
    assert not wrong, wrong


def test_serving_reads_only_the_feature_contract_of_components():
    for path in _modules("serving"):
        for module in _imports(path):
            if module.startswith("imagepipe.components"):
                assert module == "imagepipe.components.features" or module == \
                    "imagepipe.components", (path, module)


def test_the_product_never_imports_the_test_scaffolding():
    for folder in ("data", "components", "pipeline", "serving"):
        for path in _modules(folder):
            assert not [m for m in _imports(path) if m.startswith("imagepipe.testing")], path
