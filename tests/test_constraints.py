"""Each pinned stack (constraints/<stack>.txt) pins every package setup.py asks for, inside
setup.py's range: a requirement without a pin resolves to whatever is newest on install day."""

import ast
import glob
import os

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = os.path.join(os.path.dirname(__file__), "..")
STACKS = sorted(glob.glob(os.path.join(ROOT, "constraints", "*.txt")))


def setup_requirements() -> list:
    """install_requires and every extra of setup.py, read without running it."""
    with open(os.path.join(ROOT, "setup.py"), encoding="utf-8") as f:
        tree = ast.parse(f.read())
    call = next(node for node in ast.walk(tree)
                if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "setup")
    keywords = {keyword.arg: ast.literal_eval(keyword.value) for keyword in call.keywords
                if keyword.arg in ("install_requires", "extras_require")}
    specs = list(keywords["install_requires"])
    for extra in keywords["extras_require"].values():
        specs.extend(extra)
    return [Requirement(spec) for spec in specs]


def pins(path: str) -> dict:
    """canonical name -> pinned version of a constraints file."""
    pinned = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                name, version = line.split("==")
                pinned[canonicalize_name(name)] = version
    return pinned


def test_both_stacks_are_there():
    assert [os.path.basename(path) for path in STACKS] == ["tfx-1.16.txt", "tfx-1.21.txt"]


@pytest.mark.parametrize("path", STACKS, ids=os.path.basename)
def test_the_stack_pins_every_requirement_inside_its_range(path):
    pinned = pins(path)
    missing = [str(req) for req in setup_requirements()
               if canonicalize_name(req.name) not in pinned]
    assert not missing, f"{os.path.basename(path)} pins none of {missing}"
    outside = [f"{req} (pinned {pinned[canonicalize_name(req.name)]})"
               for req in setup_requirements()
               if not req.specifier.contains(pinned[canonicalize_name(req.name)],
                                             prereleases=True)]
    assert not outside, f"{os.path.basename(path)} pins outside setup.py's range: {outside}"
