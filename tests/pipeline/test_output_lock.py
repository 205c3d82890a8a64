"""One run per output folder: a second process is refused, naming the first; nothing is left."""

import os
import subprocess
import sys
import textwrap

from imagepipe.pipeline import output_lock

HOLD = textwrap.dedent("""
    import sys, time
    from imagepipe.pipeline import output_lock
    with output_lock.held(sys.argv[1]):
        print("holding", flush=True)
        time.sleep(600)
""")


def _holder(folder: str) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-c", HOLD, folder], stdout=subprocess.PIPE,
                               text=True)
    assert process.stdout.readline().strip() == "holding"
    return process


def test_a_second_run_into_a_held_output_is_refused_naming_the_first(tmp_path,
                                                                     tiny_fashion_mnist):
    output = str(tmp_path / "out")
    first = _holder(output)
    try:
        second = subprocess.run(
            [sys.executable, "-m", "imagepipe.pipeline.cli", "run", "fashion-mnist",
             "--data-dir", tiny_fashion_mnist, "--output", output, "--epochs", "1"],
            capture_output=True, text=True, timeout=300)
        assert second.returncode == 2, second.stderr
        assert f"{output} is in use by another imagepipe run (pid {first.pid}, started " in \
            second.stderr
        assert "wait for it to finish or give this run another --output" in second.stderr
        assert not os.path.exists(os.path.join(output, "metadata.sqlite"))  # it wrote nothing
        experiment = subprocess.run(
            [sys.executable, "-m", "imagepipe.pipeline.cli", "experiment", "data-size",
             "--data-dir", tiny_fashion_mnist, "--output", output, "--fractions", "1"],
            capture_output=True, text=True, timeout=300)
        assert experiment.returncode == 2 and f"(pid {first.pid}" in experiment.stderr
    finally:
        first.kill()
        first.wait()
    # The kernel released the killed holder's lock: the folder is free again.
    with output_lock.held(output) as path:
        assert os.path.exists(path)


def test_remote_outputs_are_not_locked():
    with output_lock.held("gs://bucket/out") as path:
        assert path is None
