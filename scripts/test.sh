#!/usr/bin/env bash
# Set up (venv, pinned stack, kubeflow extra) and run the test suite in parallel workers.
# Arguments go to pytest.
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
ensure_venv dev,kubeflow  # kubeflow: the compile/submit tests (kfp-pipeline-spec)
cd "$IMAGEPIPE_ROOT"
# Workers (pytest-xdist): one per core, at most 4; IMAGEPIPE_TEST_WORKERS overrides, and "-n 0"
# among the arguments runs in this process. Tests sharing an expensive fixture stay in one
# worker (tests/conftest.py marks them; --dist loadgroup keeps each group together).
cores="$(nproc)"
workers="${IMAGEPIPE_TEST_WORKERS:-$(( cores < 4 ? cores : 4 ))}"
exec "$IMAGEPIPE_VENV/bin/python" -m pytest -n "$workers" --dist loadgroup "$@"
