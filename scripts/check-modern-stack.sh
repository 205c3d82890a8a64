#!/usr/bin/env bash
# Proves the tfx-1.21 stack (TFX 1.21, Python 3.13) on a host that cannot install it (glibc
# < 2.39, e.g. Debian 12): builds a Debian 13 root with debootstrap, copies this working tree
# into it and runs the README's two commands there (chroot), as on a fresh Debian 13 machine.
#
#   sudo ./scripts/check-modern-stack.sh [options] [-- pytest arguments]
#
#   --root DIR     where the Debian 13 root lives (default: .stack-check/debian13); reused
#                  between runs, so the second run costs no debootstrap
#   --fresh        start from a new virtual environment and an empty pip cache in the root
#   --skip-main    do not run the main job
#   --skip-tests   do not run the test suite
#   --mirror URL   Debian mirror (default: http://deb.debian.org/debian)
#
# It needs root (debootstrap, mount, chroot) and Debian's package mirror and PyPI. What each
# step printed is in DIR/../logs/; a summary (stack, install time, venv size, main-job wall
# time and test accuracy, test-suite time) ends the output. Exit status: 0 when every step ran
# passed, otherwise the first failing step's.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="$REPO/.stack-check/debian13"
SUITE=trixie
MIRROR=http://deb.debian.org/debian
FRESH=0 RUN_MAIN=1 RUN_TESTS=1
PYTEST_ARGS=()
# What docs/install.md asks of a fresh Debian 13 machine, plus what debootstrap's minbase lacks.
PACKAGES=python3,python3-venv,python3-dev,gcc,g++,make,git,ca-certificates,procps
TREE=/imagepipe  # the working tree's copy inside the root

log() { printf '[check-modern-stack] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 2; }

parse_args() {
  while (($#)); do
    case "$1" in
      --root) ROOT="$(realpath -m "$2")"; shift ;;
      --fresh) FRESH=1 ;;
      --skip-main) RUN_MAIN=0 ;;
      --skip-tests) RUN_TESTS=0 ;;
      --mirror) MIRROR="$2"; shift ;;
      --) shift; PYTEST_ARGS=("$@"); break ;;
      -h|--help) sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
      *) die "unknown option $1 (see --help)" ;;
    esac
    shift
  done
  LOGS="$(dirname "$ROOT")/logs"
}

require_tools() {
  [[ "$(id -u)" == 0 ]] || die "debootstrap, mount and chroot need root: run it with sudo"
  if ! command -v debootstrap >/dev/null; then
    command -v apt-get >/dev/null || die "debootstrap is missing and there is no apt-get to install it"
    log "installing debootstrap"
    apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null
  fi
}

refuse_mounted_root() {
  # A run killed before its clean-up leaves the host's /dev bound inside: never delete through it.
  if awk -v root="$ROOT/" 'index($2 "/", root) == 1 {found = 1} END {exit !found}' /proc/mounts; then
    die "filesystems are still mounted under $ROOT (an interrupted run): umount -R them first"
  fi
}

build_root() {
  local done_marker="$ROOT/.imagepipe-root-complete"
  if [[ -f "$done_marker" ]]; then
    log "reusing the Debian root $ROOT ($(cat "$ROOT/etc/debian_version"))"
    return
  fi
  refuse_mounted_root
  rm -rf "$ROOT"  # a half-built root from an interrupted run
  mkdir -p "$ROOT"
  log "debootstrap $SUITE into $ROOT from $MIRROR"
  timed debootstrap debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$ROOT" "$MIRROR"
  touch "$done_marker"
}

trust_host_network() {
  # A host behind a TLS-inspecting proxy trusts its CA through /usr/local/share/ca-certificates;
  # the root must trust it too to reach PyPI and the mirror.
  cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
  if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$ROOT/usr/local/share/ca-certificates/"
    in_root update-ca-certificates >/dev/null
  fi
}

MOUNTS=()
mount_filesystems() {
  local target
  for target in proc sys dev dev/pts dev/shm; do mkdir -p "$ROOT/$target"; done
  mount -t proc proc "$ROOT/proc" && MOUNTS+=("$ROOT/proc")
  mount -t sysfs sysfs "$ROOT/sys" && MOUNTS+=("$ROOT/sys")
  mount --bind /dev "$ROOT/dev" && MOUNTS+=("$ROOT/dev")
  mount -t devpts devpts "$ROOT/dev/pts" && MOUNTS+=("$ROOT/dev/pts")
  mount -t tmpfs -o size=8g tmpfs "$ROOT/dev/shm" && MOUNTS+=("$ROOT/dev/shm")
  trap unmount_filesystems EXIT
}

unmount_filesystems() {
  local index
  for ((index = ${#MOUNTS[@]} - 1; index >= 0; index--)); do
    umount "${MOUNTS[index]}" 2>/dev/null || umount -l "${MOUNTS[index]}" || true
  done
}

copy_working_tree() {
  # Tracked and untracked-but-not-ignored files: what a commit of this tree would hold. The
  # tree's virtual environment stays unless --fresh (the set-up reinstalls when pins change).
  local dest="$ROOT$TREE"
  mkdir -p "$dest"
  find "$dest" -mindepth 1 -maxdepth 1 ! -name .venv -exec rm -rf {} +
  if ((FRESH)); then rm -rf "$dest/.venv" "$ROOT/root/.cache/pip"; fi
  git -C "$REPO" ls-files -co --exclude-standard -z | (cd "$REPO" && tar --null -T - -cf -) |
    tar -xf - -C "$dest"
}

in_root() {  # a clean environment, as a login on the Debian 13 machine would have
  chroot "$ROOT" env -i HOME=/root LANG=C.UTF-8 TERM=dumb DEBIAN_FRONTEND=noninteractive \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
}

declare -A SECONDS_TAKEN STATUS
timed() {  # timed NAME COMMAND...: runs it, logs to LOGS/NAME.log, records seconds and status
  local name="$1" start rc=0
  shift
  mkdir -p "$LOGS"
  start=$(date +%s)
  "$@" 2>&1 | tee "$LOGS/$name.log" || rc=${PIPESTATUS[0]}
  SECONDS_TAKEN[$name]=$(($(date +%s) - start))
  STATUS[$name]=$rc
  log "$name: exit $rc after ${SECONDS_TAKEN[$name]} s (log: $LOGS/$name.log)"
  return "$rc"
}

in_tree() {  # a command in the working tree's copy inside the root
  in_root bash -c "cd $TREE && $1" _ "${@:2}"
}

run_steps() {
  local failed=0
  # The same function either README command runs first: the stack choice and the install.
  timed install in_tree 'source scripts/setup.sh && ensure_venv dev,kubeflow' || return
  if ((RUN_MAIN)); then
    timed main-job in_tree './scripts/run-fashion-mnist.sh --output /tmp/imagepipe-main-job' ||
      failed=${STATUS[main-job]}
  fi
  if ((RUN_TESTS)); then
    timed tests in_tree './scripts/test.sh "$@"' "${PYTEST_ARGS[@]}" ||
      { ((failed)) || failed=${STATUS[tests]}; }
  fi
  return "$failed"
}

summary() {
  local venv="$ROOT$TREE/.venv" name
  log "summary"
  echo "host:       $(. /etc/os-release && echo "$PRETTY_NAME"), glibc $(getconf GNU_LIBC_VERSION | cut -d' ' -f2)"
  echo "root:       Debian $(cat "$ROOT/etc/debian_version"), glibc $(in_root getconf GNU_LIBC_VERSION | cut -d' ' -f2)"
  # (bin/python links to the root's /usr/bin/python3.X, absent on the host: test the venv file)
  [[ -f "$venv/pyvenv.cfg" ]] || return 0
  echo "stack:      $(cat "$venv/.imagepipe-stack" 2>/dev/null || echo '?'), $(in_root $TREE/.venv/bin/python -c \
    'import sys, tfx, tensorflow as tf; print("Python %d.%d.%d" % sys.version_info[:3], "TFX", tfx.__version__, "TF", tf.__version__)' 2>/dev/null)"
  echo "venv size:  $(du -sh "$venv" | cut -f1)"
  for name in install main-job tests; do
    [[ -n "${STATUS[$name]:-}" ]] && echo "$name: ${SECONDS_TAKEN[$name]} s, exit ${STATUS[$name]}"
  done
  # Only this run's steps: a skipped step's log is an earlier run's.
  if [[ -n "${STATUS[main-job]:-}" && -f "$LOGS/main-job.log" ]]; then
    grep -E "^Run .* finished in|^  test accuracy:|^  recall per class:" "$LOGS/main-job.log" || true
  fi
  if [[ -n "${STATUS[tests]:-}" && -f "$LOGS/tests.log" ]]; then
    grep -E "(passed|failed).* in [0-9.]+s" "$LOGS/tests.log" | tail -1 || true
  fi
}

main() {
  parse_args "$@"
  require_tools
  refuse_mounted_root
  build_root
  mount_filesystems
  trust_host_network
  copy_working_tree
  local rc=0
  run_steps || rc=$?
  summary
  return "$rc"
}

main "$@"
