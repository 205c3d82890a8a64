#!/usr/bin/env bash
# Shared set-up, sourced by the other scripts: picks the pinned stack the host can run,
# creates the virtual environment, installs the stack and, when asked, the data.
#
# Two stacks, each a constraints file (constraints/<stack>.txt):
#   tfx-1.21  TFX 1.21, TF 2.21, protobuf 6, numpy 2 on Python 3.13, 3.12 or 3.11. Its wheels
#             (ml-metadata, TFDV) are manylinux_2_39: the host needs glibc >= 2.39
#             (Debian 13, Ubuntu 24.04 and later).
#   tfx-1.16  TFX 1.16, TF 2.16, protobuf 3, numpy 1 on Python 3.10, any glibc >= 2.17.
# The newer one is taken where the host has both glibc >= 2.39 and one of its Pythons.
#
#   IMAGEPIPE_STACK              tfx-1.21 or tfx-1.16 to force one (default: picked from the host)
#   IMAGEPIPE_VENV               where the virtual environment lives (default: .venv)
#   IMAGEPIPE_PYTHON             the interpreter to use (it must be one of the stack's Pythons)
#   IMAGEPIPE_FASHION_MNIST_DIR  folder of the Fashion-MNIST IDX files, if you have them
set -euo pipefail

IMAGEPIPE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
IMAGEPIPE_VENV="${IMAGEPIPE_VENV:-$IMAGEPIPE_ROOT/.venv}"
DEBIAN_FASHION_MNIST_DIR=/usr/share/datasets/fashion-mnist
MODERN_STACK=tfx-1.21
MODERN_STACK_MIN_GLIBC=2.39
LEGACY_STACK=tfx-1.16
STACK_FILE=.imagepipe-stack  # inside the venv: the stack it was built for
SYSTEM_PYTHON_DIRS=(/usr/local/bin /usr/bin)  # searched after PATH and pyenv

log() { printf '[imagepipe setup] %s\n' "$*" >&2; }

stack_pythons() {
  case "$1" in
    "$MODERN_STACK") echo "3.13 3.12 3.11" ;;
    "$LEGACY_STACK") echo "3.10" ;;
    *) log "error: unknown stack '$1' (IMAGEPIPE_STACK): choose $MODERN_STACK or $LEGACY_STACK"
       exit 3 ;;
  esac
}

stack_bootstrap_packages() {  # the pip and setuptools each stack was resolved and tested with
  case "$1" in
    "$MODERN_STACK") echo "pip<27 setuptools<85 wheel" ;;
    "$LEGACY_STACK") echo "pip<25 setuptools<70 wheel" ;;
  esac
}

python_install_hint() {
  case "$1" in
    "$MODERN_STACK") echo "\`apt-get install python3 python3-venv python3-dev g++\` (Debian 13, Ubuntu 24.04)" ;;
    "$LEGACY_STACK") echo "\`pyenv install 3.10.13\` or \`apt-get install python3.10 python3.10-venv\`" ;;
  esac
}

host_glibc() { getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}' || true; }

version_at_least() {  # version_at_least HAVE NEED
  [[ -n "$1" && "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -1)" == "$2" ]]
}

python_version_of() {
  # pyenv's shims are on PATH even when they cannot run that version: try the interpreter.
  [[ -n "$1" && -x "$1" ]] &&
    "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null
}

find_python() {  # find_python 3.X: an interpreter of that version, or nothing
  local version="$1" candidate pyenv_root
  pyenv_root="$( (command -v pyenv >/dev/null && pyenv root) || echo "$HOME/.pyenv")"
  for candidate in "${IMAGEPIPE_PYTHON:-}" "$(command -v "python$version" || true)" \
                   "$pyenv_root"/versions/"$version".*/bin/"python$version" \
                   "${SYSTEM_PYTHON_DIRS[@]/%//python$version}"; do
    if [[ "$(python_version_of "$candidate")" == "$version" ]]; then
      echo "$candidate"; return 0
    fi
  done
  return 1
}

find_stack_python() {  # the first of the stack's Pythons found, newest first
  local version
  for version in $(stack_pythons "$1"); do
    find_python "$version" && return 0
  done
  return 1
}

require_stack_host() {  # a forced stack the host cannot run stops here, saying why
  local stack="$1" glibc
  glibc="$(host_glibc)"
  if [[ "$stack" == "$MODERN_STACK" ]] && ! version_at_least "$glibc" "$MODERN_STACK_MIN_GLIBC"; then
    log "error: $MODERN_STACK needs glibc >= $MODERN_STACK_MIN_GLIBC (its wheels are manylinux_2_39);"
    log "  this host has glibc ${glibc:-unknown}. Use $LEGACY_STACK here, or prove $MODERN_STACK in a"
    log "  Debian 13 root: sudo ./scripts/check-modern-stack.sh"
    exit 3
  fi
}

# Sets STACK, STACK_PYTHON and STACK_REASON for a new virtual environment.
choose_stack() {
  local glibc forced="${IMAGEPIPE_STACK:-}"
  glibc="$(host_glibc)"
  if [[ -n "$forced" ]]; then
    stack_pythons "$forced" >/dev/null
    require_stack_host "$forced"
    STACK="$forced"
    STACK_REASON="forced by IMAGEPIPE_STACK"
  elif version_at_least "$glibc" "$MODERN_STACK_MIN_GLIBC" && find_stack_python "$MODERN_STACK" >/dev/null; then
    STACK="$MODERN_STACK"
    STACK_REASON="glibc $glibc >= $MODERN_STACK_MIN_GLIBC and a Python $(stack_pythons "$MODERN_STACK" | tr ' ' '/') found"
  elif version_at_least "$glibc" "$MODERN_STACK_MIN_GLIBC"; then
    STACK="$LEGACY_STACK"
    STACK_REASON="glibc $glibc allows $MODERN_STACK, but no Python $(stack_pythons "$MODERN_STACK" | tr ' ' '/') was found"
  else
    STACK="$LEGACY_STACK"
    STACK_REASON="glibc ${glibc:-unknown} < $MODERN_STACK_MIN_GLIBC: $MODERN_STACK's wheels need manylinux_2_39"
  fi
  if ! STACK_PYTHON="$(find_stack_python "$STACK")"; then
    log "error: the $STACK stack needs Python $(stack_pythons "$STACK" | tr ' ' '/') and none was found"
    log "  on PATH or in pyenv's versions folder ($STACK_REASON). Install one, e.g."
    log "  $(python_install_hint "$STACK"), or set IMAGEPIPE_PYTHON (and IMAGEPIPE_STACK to"
    log "  choose the other stack)."
    exit 3
  fi
}

# The stack an existing virtual environment was built for (those made before there were two
# stacks carry no stack file: they are Python 3.10, the TFX 1.16 stack).
venv_stack() {
  if [[ -f "$IMAGEPIPE_VENV/$STACK_FILE" ]]; then
    cat "$IMAGEPIPE_VENV/$STACK_FILE"
  elif [[ "$(python_version_of "$IMAGEPIPE_VENV/bin/python")" == 3.10 ]]; then
    echo "$LEGACY_STACK"
  else
    echo unknown
  fi
}

create_venv() {
  choose_stack
  log "stack $STACK (TFX ${STACK#tfx-}) with $STACK_PYTHON: $STACK_REASON"
  log "creating the virtual environment $IMAGEPIPE_VENV"
  "$STACK_PYTHON" -m venv "$IMAGEPIPE_VENV"
  echo "$STACK" >"$IMAGEPIPE_VENV/$STACK_FILE"
}

use_existing_venv() {
  STACK="$(venv_stack)"
  if [[ -n "${IMAGEPIPE_STACK:-}" && "$IMAGEPIPE_STACK" != "$STACK" ]]; then
    log "error: $IMAGEPIPE_VENV was built for the $STACK stack, not $IMAGEPIPE_STACK: remove it"
    log "  (rm -r $IMAGEPIPE_VENV) or point IMAGEPIPE_VENV at another folder"
    exit 3
  fi
  if [[ "$STACK" == unknown ]]; then
    log "error: $IMAGEPIPE_VENV was not made by this script (no $STACK_FILE, not Python 3.10):"
    log "  remove it or point IMAGEPIPE_VENV at another folder"
    exit 3
  fi
  log "stack $STACK (the existing virtual environment $IMAGEPIPE_VENV)"
}

ensure_venv() {
  local extras="$1" constraints stamp wanted
  if [[ -x "$IMAGEPIPE_VENV/bin/python" ]]; then use_existing_venv; else create_venv; fi
  constraints="$IMAGEPIPE_ROOT/constraints/$STACK.txt"
  stamp="$IMAGEPIPE_VENV/.imagepipe-installed"
  wanted="$(cat "$constraints" "$IMAGEPIPE_ROOT/setup.py" | sha256sum | cut -c1-16) $extras"
  if [[ ! -f "$stamp" ]] || ! grep -qxF "$wanted" "$stamp"; then
    log "installing the pinned stack constraints/$STACK.txt ($extras) -- a few minutes the first time"
    # shellcheck disable=SC2046  # the package specs are words on purpose
    "$IMAGEPIPE_VENV/bin/python" -m pip install --quiet --upgrade $(stack_bootstrap_packages "$STACK")
    # --use-pep517: a PEP 660 editable install maps imagepipe.* onto the folders (setup.py's
    # package_dir); the legacy one (setup.py develop, pip's default without pyproject.toml) cannot.
    "$IMAGEPIPE_VENV/bin/python" -m pip install --quiet --use-pep517 \
      -c "$constraints" -e "$IMAGEPIPE_ROOT[$extras]"
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
