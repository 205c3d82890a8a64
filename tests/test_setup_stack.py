"""scripts/setup.sh picks the pinned stack from the host's glibc and Pythons, and says why.

The host is faked: a ``getconf`` that reports a glibc version and ``python3.X`` scripts that
answer the version probe, first on PATH.
"""

import os
import shutil
import stat
import subprocess

import pytest

ROOT = os.path.join(os.path.dirname(__file__), "..")
SETUP = os.path.join(ROOT, "scripts", "setup.sh")
BASH = shutil.which("bash")


def _executable(path, text: str) -> None:
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + text + "\n")
    os.chmod(path, os.stat(path).st_mode | stat.S_IEXEC)


def fake_host(tmp_path, glibc: str, pythons=(), name: str = "bin") -> str:
    """A bin folder with a getconf saying ``glibc`` and a python3.X for each version."""
    bin_dir = tmp_path / name
    bin_dir.mkdir()
    _executable(bin_dir / "getconf", f'echo "glibc {glibc}"')
    for version in pythons:
        _executable(bin_dir / f"python{version}", f'echo "{version}"')
    return str(bin_dir)


def tools_only(tmp_path) -> str:
    """A folder with the tools setup.sh uses and no Python: PATH for a host without one."""
    tools = tmp_path / "tools"
    tools.mkdir()
    for tool in ("awk", "cat", "cut", "dirname", "grep", "head", "sort", "tr"):
        os.symlink(shutil.which(tool), tools / tool)
    return str(tools)


def choose(tmp_path, bin_dir: str, system: bool = True, **env) -> subprocess.CompletedProcess:
    """Runs choose_stack; ``system=False`` hides this machine's own Pythons."""
    no_system = "" if system else "SYSTEM_PYTHON_DIRS=(); "
    script = (f'source "{SETUP}"; {no_system}choose_stack; '
              'echo "$STACK|$STACK_PYTHON|$STACK_REASON"')
    system_path = "/usr/bin:/bin" if system else tools_only(tmp_path)
    environment = {"PATH": f"{bin_dir}:{system_path}", "HOME": str(tmp_path),
                   "IMAGEPIPE_VENV": str(tmp_path / "venv"), **env}
    return subprocess.run([BASH, "-c", script], env=environment, capture_output=True, text=True)


def picked(result: subprocess.CompletedProcess):
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().split("|")


def test_old_glibc_takes_tfx_1_16_with_python_3_10_and_says_why(tmp_path):
    bin_dir = fake_host(tmp_path, "2.36", pythons=("3.10", "3.13"))
    stack, python, reason = picked(choose(tmp_path, bin_dir))
    assert (stack, python) == ("tfx-1.16", f"{bin_dir}/python3.10")
    assert "glibc 2.36 < 2.39" in reason


def test_new_glibc_with_a_current_python_takes_tfx_1_21(tmp_path):
    bin_dir = fake_host(tmp_path, "2.41", pythons=("3.10", "3.13"))
    stack, python, reason = picked(choose(tmp_path, bin_dir))
    assert (stack, python) == ("tfx-1.21", f"{bin_dir}/python3.13")
    assert "glibc 2.41 >= 2.39" in reason


def test_new_glibc_without_a_current_python_falls_back_to_tfx_1_16(tmp_path):
    bin_dir = fake_host(tmp_path, "2.41", pythons=("3.10",))
    # Only the fake host's Pythons: this machine's /usr/bin may have a 3.11 of its own.
    stack, _, reason = picked(choose(tmp_path, bin_dir, system=False))
    assert stack == "tfx-1.16" and "no Python 3.13/3.12/3.11 was found" in reason


def test_a_forced_stack_wins_and_one_the_host_cannot_run_is_refused(tmp_path):
    bin_dir = fake_host(tmp_path, "2.41", pythons=("3.10", "3.13"))
    stack, python, reason = picked(choose(tmp_path, bin_dir, IMAGEPIPE_STACK="tfx-1.16"))
    assert (stack, python, reason) == ("tfx-1.16", f"{bin_dir}/python3.10",
                                       "forced by IMAGEPIPE_STACK")
    old_host = fake_host(tmp_path, "2.36", pythons=("3.13",), name="old-bin")
    refused = choose(tmp_path, old_host, IMAGEPIPE_STACK="tfx-1.21")
    assert refused.returncode == 3
    assert "tfx-1.21 needs glibc >= 2.39" in refused.stderr and "glibc 2.36" in refused.stderr


def test_an_unknown_stack_is_named(tmp_path):
    bin_dir = fake_host(tmp_path, "2.41", pythons=("3.13",))
    result = choose(tmp_path, bin_dir, IMAGEPIPE_STACK="tfx-9")
    assert result.returncode == 3 and "unknown stack 'tfx-9'" in result.stderr


def test_an_existing_venv_keeps_its_stack_and_refuses_another(tmp_path):
    bin_dir = fake_host(tmp_path, "2.41", pythons=("3.13",))
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    _executable(venv / "bin" / "python", 'echo "3.10"')
    (venv / ".imagepipe-stack").write_text("tfx-1.16\n")
    script = f'source "{SETUP}"; use_existing_venv; echo "$STACK"'
    environment = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path),
                   "IMAGEPIPE_VENV": str(venv)}
    kept = subprocess.run([BASH, "-c", script], env=environment, capture_output=True,
                          text=True)
    assert kept.returncode == 0 and kept.stdout.strip() == "tfx-1.16"
    refused = subprocess.run([BASH, "-c", script], capture_output=True, text=True,
                             env={**environment, "IMAGEPIPE_STACK": "tfx-1.21"})
    assert refused.returncode == 3 and "was built for the tfx-1.16 stack" in refused.stderr


@pytest.mark.parametrize("stack", ["tfx-1.16", "tfx-1.21"])
def test_each_stack_pins_tfx_and_its_tensorflow(stack):
    with open(os.path.join(ROOT, "constraints", f"{stack}.txt")) as f:
        pins = dict(line.strip().split("==") for line in f if "==" in line)
    tfx_version = stack.split("-")[1]
    assert pins["tfx"].startswith(tfx_version + ".")
    assert pins["tensorflow"].startswith({"1.16": "2.16.", "1.21": "2.21."}[tfx_version])
    assert "imagepipe" not in pins
