#!/usr/bin/env bash
# The main job: set up (venv, pinned stack, Fashion-MNIST) and run the full
# Fashion-MNIST pipeline locally. Arguments go to `imagepipe run fashion-mnist`.
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
ensure_venv dev
ensure_fashion_mnist
exec "$IMAGEPIPE_VENV/bin/imagepipe" run fashion-mnist "$@"
