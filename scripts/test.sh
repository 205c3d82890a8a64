#!/usr/bin/env bash
# Set up (venv, pinned stack, kubeflow extra) and run the test suite. Arguments go to pytest.
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
ensure_venv dev,kubeflow  # kubeflow: the compile/submit tests (kfp-pipeline-spec)
cd "$IMAGEPIPE_ROOT"
exec "$IMAGEPIPE_VENV/bin/python" -m pytest "$@"
