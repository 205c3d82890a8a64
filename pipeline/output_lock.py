"""One local run per output folder at a time.

Two runs writing into one ``--output`` would share its ML Metadata store, its
pipeline root and its serving folder: each would print the other's pushed
version and the later one's log would bury the earlier one's. So a run holds
an exclusive lock on ``<output>/.imagepipe.lock`` (``fcntl.flock``: released
by the kernel when the process ends, however it ends) and writes who holds it
into the file; a second run is refused at once with that holder's pid, start
time and command. Remote outputs (``gs://``) are not locked: there the
orchestrator owns the runs.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import time
from typing import Iterator, Optional

LOCK_FILE = ".imagepipe.lock"


class OutputInUseError(RuntimeError):
    """Another run holds the output folder; the message names it."""


def _holder(text: str) -> str:
    try:
        holder = json.loads(text)
        return (f"pid {holder['pid']}, started {holder['started']}, "
                f"`{holder['command']}`")
    except (ValueError, KeyError, TypeError):
        return "a process that left no description"


@contextlib.contextmanager
def held(folder: str) -> Iterator[Optional[str]]:
    """Holds ``folder``'s lock for the duration of the block; yields the lock file's path.

    Raises:
      OutputInUseError: another process holds it.
    """
    if "://" in folder:
        yield None
        return
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, LOCK_FILE)
    handle = open(path, "a+", encoding="utf-8")  # pylint: disable=consider-using-with
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = _holder(handle.read())
        handle.close()
        raise OutputInUseError(
            f"{folder} is in use by another imagepipe run ({holder}); wait for it to finish "
            f"or give this run another --output") from None
    handle.seek(0)
    handle.truncate()
    json.dump({"pid": os.getpid(), "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
               "command": " ".join(os.path.basename(a) if i == 0 else a
                                   for i, a in enumerate(sys.argv))}, handle)
    handle.flush()
    try:
        yield path
    finally:
        handle.seek(0)
        handle.truncate()
        handle.flush()
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()
