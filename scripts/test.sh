#!/usr/bin/env bash
# Set up (venv, pinned stack) and run the test suite. Arguments go to pytest.
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
ensure_venv dev
cd "$IMAGEPIPE_ROOT"
exec "$IMAGEPIPE_VENV/bin/python" -m pytest "$@"
