"""Data sources, registered by name (see :mod:`.registry`).

Importing this package registers the built-in sources: Fashion-MNIST from IDX
files (``idx``) or TFDS (``tfds``), and photo folders (``folder``).
"""

from . import fashion_mnist, photo_folder  # noqa: F401  (registers the sources)
from .registry import (DataSource, DriftRules, UnknownSourceError, get, names, of,
                       read_ingest_report, register, targets, unregister)

__all__ = ["DataSource", "DriftRules", "UnknownSourceError", "get", "names", "of",
           "read_ingest_report", "register", "targets", "unregister"]
