"""Walking a photo folder: every entry a file to read or a skipped one, never outside the folder.

:func:`walk` lists everything under a photo folder, local (with ``os``, which
sees symbolic links) or ``gs://`` (with ``tf.io.gfile``). A symbolic link
whose target lies outside the folder is skipped as ``outside_folder`` unless
the caller allows it (``--follow-links``): a link to ``/etc`` must not make
ingestion read ``/etc``. :func:`read_file` reads a file in chunks up to a size
limit, so a huge file costs the limit at most, never its size.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import stat as stat_lib
from typing import Iterator, Optional, Sequence, Tuple, Union

from . import images

HIDDEN = "hidden"
INVALID_NAME = "invalid_name"
BROKEN_SYMLINK = "broken_symlink"
SYMLINK_LOOP = "symlink_loop"
NOT_A_FILE = "not_a_file"
UNREADABLE = "unreadable"
OUTSIDE_FOLDER = "outside_folder"
TOO_LARGE = "too_large"

DEFAULT_MAX_FILE_MB = 128  # above any phone photo; bounds what one file costs to read
# Bytes read from a file at a time.
_CHUNK_BYTES = 2**20

_SYSTEM_NAMES = frozenset(name.lower() for name in (
    "Thumbs.db", "ehthumbs.db", "ehthumbs_vista.db", "desktop.ini", "Icon\r", "__MACOSX",
    "$RECYCLE.BIN", "System Volume Information", "@eaDir", "lost+found"))


@dataclasses.dataclass(frozen=True)
class ScanLimits:
    """What a scan may read, and what a photo must be to make a model input.

    Attributes:
      max_file_bytes: larger files are skipped unread (``too_large``); a file
        that grows past it while read is cut off there.
      image_size: the model input's side; an image whose shorter side would
        be 0 pixels there (``images.fitted_size``) is skipped (``too_thin``).
        None: not checked.
      max_side: the longer side of the stored copy (``images.normalise``).
      follow_links: follow symbolic links leading outside the folder.
    """

    max_file_bytes: int = DEFAULT_MAX_FILE_MB * 2**20
    image_size: Optional[int] = None
    max_side: int = images.DEFAULT_MAX_SIDE
    follow_links: bool = False


@dataclasses.dataclass(frozen=True)
class Skipped:
    """An entry that was not ingested.

    Attributes:
      path: relative to the root, ``/``-separated, printable (bytes that are
        not UTF-8 shown as ``\\xNN``); folders end with ``/``.
      reason: one of ``REASONS``.
      detail: what exactly was wrong.
    """

    path: str
    reason: str
    detail: str


@dataclasses.dataclass(frozen=True)
class Candidate:
    parts: Tuple[str, ...]  # relative path components
    location: str  # absolute path or URL
    size: int
    mtime_ns: int


def valid_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes arrive as lone surrogates
        return False
    return True


def _printable(name: str) -> str:
    if valid_utf8(name):
        return name
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def display_path(parts: Sequence[str], folder: bool = False) -> str:
    """The printable relative path of ``parts``; folders end with ``/``."""
    return "/".join(_printable(p) for p in parts) + ("/" if folder else "")


def is_hidden(name: str) -> bool:
    """True for hidden and system files: dot files, ``Thumbs.db``, ``desktop.ini``, ..."""
    return name.startswith(".") or name.startswith("~$") or name.lower() in _SYSTEM_NAMES


def _name_problem(name: str, parts: Tuple[str, ...], is_dir: bool) -> Optional[Skipped]:
    what = "folder" if is_dir else "file"
    if not valid_utf8(name):
        detail = f"{what} name is not valid UTF-8; rename it"
        if is_dir:
            detail += " (its contents were not read)"
        return Skipped(display_path(parts, is_dir), INVALID_NAME, detail)
    if is_hidden(name):
        detail = f"hidden or system {what}" + (", not searched" if is_dir else "")
        return Skipped(display_path(parts, is_dir), HIDDEN, detail)
    return None


Walked = Union[Candidate, Skipped]


def _outside(path: str, real_root: str) -> bool:
    """True when ``path``, its links resolved, is not under ``real_root``."""
    return os.path.commonpath([os.path.realpath(path), real_root]) != real_root


def _walk_local(root: str, follow_links: bool = False) -> Iterator[Walked]:
    """Walks a local folder, following symbolic links inside it, detecting loops.

    A link leading outside the folder is skipped as ``outside_folder`` unless
    ``follow_links``.
    """
    root_stat = os.stat(root)
    real_root = os.path.realpath(root)

    def walk(path: str, parts: Tuple[str, ...], ancestors: frozenset) -> Iterator[Walked]:
        try:
            names = sorted(os.listdir(path))
        except OSError as error:
            yield Skipped(display_path(parts, True), UNREADABLE,
                          f"folder cannot be listed ({error.strerror or error})")
            return
        for name in names:
            child, child_parts = os.path.join(path, name), parts + (name,)
            yield from visit(child, child_parts, ancestors)

    def visit(child: str, parts: Tuple[str, ...], ancestors: frozenset) -> Iterator[Walked]:
        try:
            link = stat_lib.S_ISLNK(os.lstat(child).st_mode)
            info, problem = os.stat(child), None
        except OSError as error:
            info, problem = None, error
        is_dir = info is not None and stat_lib.S_ISDIR(info.st_mode)
        named = _name_problem(parts[-1], parts, is_dir)
        if named:
            yield named
        elif problem is not None:
            yield _stat_problem(parts, problem, link)
        elif link and not follow_links and _outside(child, real_root):
            what = "folder" if is_dir else "file"
            yield Skipped(display_path(parts, is_dir), OUTSIDE_FOLDER,
                          f"symbolic link to a {what} outside the photo folder, not followed "
                          f"(--follow-links follows it)")
        elif is_dir:
            key = (info.st_dev, info.st_ino)
            if key in ancestors:
                yield Skipped(display_path(parts, True), SYMLINK_LOOP,
                              f"links back to {os.path.realpath(child)}, a folder above it")
            else:
                yield from walk(child, parts, ancestors | {key})
        elif not stat_lib.S_ISREG(info.st_mode):
            yield Skipped(display_path(parts), NOT_A_FILE,
                          "not a regular file (a FIFO, socket or device)")
        else:
            yield Candidate(parts, child, info.st_size, info.st_mtime_ns)

    yield from walk(root, (), frozenset({(root_stat.st_dev, root_stat.st_ino)}))


def _stat_problem(parts: Tuple[str, ...], error: OSError, link: bool) -> Skipped:
    if error.errno == errno.ELOOP:
        return Skipped(display_path(parts), SYMLINK_LOOP, "symbolic link loop")
    if link and error.errno in (errno.ENOENT, errno.ENOTDIR):
        return Skipped(display_path(parts), BROKEN_SYMLINK,
                       "symbolic link to a missing target")
    return Skipped(display_path(parts), UNREADABLE, f"cannot be read ({error.strerror or error})")


def _walk_remote(root: str) -> Iterator[Walked]:
    """Walks a ``gs://`` (or other tf.io.gfile) folder; there are no links there."""
    import tensorflow as tf  # pylint: disable=g-import-not-at-top

    def walk(path: str, parts: Tuple[str, ...]) -> Iterator[Walked]:
        try:
            names = sorted(tf.io.gfile.listdir(path))
        except Exception as error:  # pylint: disable=broad-except  (gfile error kinds)
            yield Skipped(display_path(parts, True), UNREADABLE, f"folder cannot be listed "
                                                                 f"({error})")
            return
        for name in names:
            child = path.rstrip("/") + "/" + name.rstrip("/")
            child_parts = parts + (name.rstrip("/"),)
            is_dir = name.endswith("/") or tf.io.gfile.isdir(child)
            named = _name_problem(child_parts[-1], child_parts, is_dir)
            if named:
                yield named
            elif is_dir:
                yield from walk(child, child_parts)
            else:
                try:
                    info = tf.io.gfile.stat(child)
                except Exception as error:  # pylint: disable=broad-except
                    yield Skipped(display_path(child_parts), UNREADABLE, f"cannot be read "
                                                                         f"({error})")
                    continue
                yield Candidate(child_parts, child, int(info.length), int(info.mtime_nsec))

    yield from walk(root, ())


def is_remote(path: str) -> bool:
    return "://" in path


def walk(root: str, follow_links: bool = False) -> Iterator[Walked]:
    """Every entry under ``root``: a :class:`Candidate` file to read, or :class:`Skipped`.

    Args:
      root: the folder, local or ``gs://``.
      follow_links: also follow symbolic links whose target is outside ``root``.
    """
    return _walk_remote(root) if is_remote(root) else _walk_local(root, follow_links)


class FileTooLarge(ValueError):
    """A file holds more bytes than the limit it was read with."""


def _open(location: str):
    if is_remote(location):
        import tensorflow as tf  # pylint: disable=g-import-not-at-top
        return tf.io.gfile.GFile(location, "rb")
    return open(location, "rb")  # pylint: disable=consider-using-with


def read_file(location: str, max_bytes: Optional[int] = None) -> bytes:
    """Reads a file, local or remote, in chunks: at most ``max_bytes`` (None: all).

    Raises:
      FileTooLarge: the file holds more than ``max_bytes``; only ``max_bytes + 1``
        bytes were read.
      OSError: the file cannot be read.
    """
    chunks, total = [], 0
    with _open(location) as f:
        while True:
            wanted = _CHUNK_BYTES if max_bytes is None else min(_CHUNK_BYTES,
                                                                 max_bytes + 1 - total)
            chunk = f.read(wanted)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
            total += len(chunk)
            if max_bytes is not None and total > max_bytes:
                raise FileTooLarge(f"more than {max_bytes:,} bytes")


def read_candidate(candidate: Candidate, max_file_bytes: int) -> Union[bytes, Skipped]:
    """The file's bytes, or why it was not read (over the size limit, unreadable)."""
    path = display_path(candidate.parts)
    too_large = Skipped(path, TOO_LARGE, f"{candidate.size:,} bytes, more than the limit of "
                                         f"{max_file_bytes:,} (--max-file-mb); not read")
    if candidate.size > max_file_bytes:
        return too_large
    try:
        return read_file(candidate.location, max_file_bytes)
    except FileTooLarge:  # it grew after it was listed
        return too_large
    except Exception as error:  # pylint: disable=broad-except  (OSError, gfile errors)
        reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
        return Skipped(path, UNREADABLE, f"cannot be read ({reason})")
