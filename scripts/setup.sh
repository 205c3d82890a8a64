#!/usr/bin/env bash
# Shared set-up, sourced by the other scripts: finds Python 3.10, creates the
# virtual environment, installs the pinned stack and, when asked, the data.
#
#   IMAGEPIPE_VENV               where the virtual environment lives (default: .venv)
#   IMAGEPIPE_PYTHON             a Python 3.10 interpreter to use
#   IMAGEPIPE_FASHION_MNIST_DIR  folder of the Fashion-MNIST IDX files, if you have them
set -euo pipefail

IMAGEPIPE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
IMAGEPIPE_VENV="${IMAGEPIPE_VENV:-$IMAGEPIPE_ROOT/.venv}"
DEBIAN_FASHION_MNIST_DIR=/usr/share/datasets/fashion-mnist

log() { printf '[imagepipe setup] %s\n' "$*" >&2; }

is_python310() {
  # pyenv's shims are on PATH even when they cannot run 3.10: try the interpreter.
  [[ -n "$1" && -x "$1" ]] &&
    "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' >/dev/null 2>&1
}

find_python310() {
  local candidate pyenv_root
  pyenv_root="$( (command -v pyenv >/dev/null && pyenv root) || echo "$HOME/.pyenv")"
  for candidate in "${IMAGEPIPE_PYTHON:-}" "$(command -v python3.10 || true)" \
                   "$pyenv_root"/versions/3.10.*/bin/python3.10 /usr/local/bin/python3.10 \
                   /usr/bin/python3.10; do
    if is_python310 "$candidate"; then echo "$candidate"; return 0; fi
  done
  return 1
}

ensure_venv() {
  local extras="$1" python stamp wanted
  if [[ ! -x "$IMAGEPIPE_VENV/bin/python" ]]; then
    if ! python="$(find_python310)"; then
      log "error: Python 3.10 is required (TFX 1.16 runs on Python 3.9-3.10) and none was found"
      log "  on PATH or in pyenv's versions folder. Install it, e.g. \`pyenv install 3.10.13\`"
      log "  or \`apt-get install python3.10 python3.10-venv\`, or set IMAGEPIPE_PYTHON."
      exit 3
    fi
    log "creating the virtual environment $IMAGEPIPE_VENV with $python"
    "$python" -m venv "$IMAGEPIPE_VENV"
  fi
  stamp="$IMAGEPIPE_VENV/.imagepipe-installed"
  wanted="$(cat "$IMAGEPIPE_ROOT/constraints.txt" "$IMAGEPIPE_ROOT/setup.py" | sha256sum | cut -c1-16) $extras"
  if [[ ! -f "$stamp" ]] || ! grep -qxF "$wanted" "$stamp"; then
    log "installing the pinned stack ($extras) -- a few minutes the first time"
    "$IMAGEPIPE_VENV/bin/python" -m pip install --quiet --upgrade "pip<25" "setuptools<70" wheel
    # --use-pep517: a PEP 660 editable install maps imagepipe.* onto the folders (setup.py's
    # package_dir); the legacy one (setup.py develop, pip's default without pyproject.toml) cannot.
    "$IMAGEPIPE_VENV/bin/python" -m pip install --quiet --use-pep517 \
      -c "$IMAGEPIPE_ROOT/constraints.txt" -e "$IMAGEPIPE_ROOT[$extras]"
    echo "$wanted" >>"$stamp"  # one line per extras set installed: installs only add
  fi
}

has_idx_files() {
  [[ -f "$1/train-images-idx3-ubyte.gz" || -f "$1/train-images-idx3-ubyte" ]]
}

ensure_fashion_mnist() {
  if [[ -n "${IMAGEPIPE_FASHION_MNIST_DIR:-}" ]]; then
    has_idx_files "$IMAGEPIPE_FASHION_MNIST_DIR" && return 0
    log "error: IMAGEPIPE_FASHION_MNIST_DIR=$IMAGEPIPE_FASHION_MNIST_DIR holds no IDX files"
    exit 4
  fi
  has_idx_files "$DEBIAN_FASHION_MNIST_DIR" && return 0
  if command -v apt-get >/dev/null; then
    local sudo=""
    [[ "$(id -u)" != 0 ]] && command -v sudo >/dev/null && sudo="sudo"
    log "installing the Debian package dataset-fashion-mnist"
    if $sudo apt-get update -qq && $sudo apt-get install -y -qq dataset-fashion-mnist; then
      has_idx_files "$DEBIAN_FASHION_MNIST_DIR" && return 0
    fi
    log "the Debian package is not available here; downloading the canonical files instead"
  fi
  "$IMAGEPIPE_VENV/bin/python" -m imagepipe.data.download
}
