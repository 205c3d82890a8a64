"""Class maps of photo folders: which sub-folders make up which class.

By default every sub-folder of a photo folder is a class of its own. A class
map file groups sub-folder names into classes and leaves the other
sub-folders out, the same idea as Fashion-MNIST's super-classes::

    # classes.yaml (JSON works too: {"upper": ["t-shirt", "shirt"], ...})
    upper: [t-shirt, shirt, dress]
    lower: trousers            # one folder may be written without a list
    shoes: [sandals, sneakers]

Class ids follow the order of the file. A class map is kept as a tuple of
``(class name, (folder, ...))`` pairs so that it can live in a frozen config.
"""

from __future__ import annotations

import json
import os
from typing import Dict, Iterable, Mapping, Sequence, Tuple

ClassMap = Tuple[Tuple[str, Tuple[str, ...]], ...]


class ClassMapError(ValueError):
    """A class map that cannot be used; the message names the file."""


def from_folders(folders: Iterable[str]) -> ClassMap:
    """The default class map: each folder is a class of the same name, sorted by name."""
    return tuple((name, (name,)) for name in sorted(set(folders)))


def validate(class_map: ClassMap, source: str = "class map") -> ClassMap:
    """Checks a class map and returns it.

    Raises:
      ClassMapError: no class, an empty or repeated class name, a class without
        folders, or a folder claimed by two classes; the message names ``source``.
    """
    if not class_map:
        raise ClassMapError(f"{source}: no class defined")
    owner: Dict[str, str] = {}
    for class_name, folders in class_map:
        if not isinstance(class_name, str) or not class_name.strip():
            raise ClassMapError(f"{source}: class names must be non-empty text, got "
                                f"{class_name!r}")
        if sum(1 for name, _ in class_map if name == class_name) > 1:
            raise ClassMapError(f"{source}: class {class_name!r} is defined twice")
        if not folders:
            raise ClassMapError(f"{source}: class {class_name!r} has no folder")
        for folder in folders:
            if not isinstance(folder, str) or not folder or "/" in folder or "\\" in folder:
                raise ClassMapError(f"{source}: class {class_name!r}: folder names must be "
                                    f"sub-folder names without slashes, got {folder!r}")
            if folder in owner and owner[folder] != class_name:
                raise ClassMapError(f"{source}: folder {folder!r} is in two classes, "
                                    f"{owner[folder]!r} and {class_name!r}")
            owner[folder] = class_name
    return class_map


def from_mapping(mapping: Mapping, source: str = "class map") -> ClassMap:
    """Builds a class map from ``{class: [folder, ...] or folder}``, in the mapping's order."""
    if not isinstance(mapping, Mapping):
        raise ClassMapError(f"{source}: expected a mapping of class name to folder names, got "
                            f"{type(mapping).__name__}")
    pairs = []
    for class_name, folders in mapping.items():
        if isinstance(folders, str):
            folders = [folders]
        if not isinstance(folders, Sequence):
            raise ClassMapError(f"{source}: class {class_name!r}: expected a folder name or a "
                                f"list of folder names, got {type(folders).__name__}")
        pairs.append((str(class_name), tuple(str(folder) for folder in folders)))
    return validate(tuple(pairs), source)


def _read_text(path: str) -> str:
    if "://" in path:
        import tensorflow as tf  # pylint: disable=g-import-not-at-top  (gs:// only)
        with tf.io.gfile.GFile(path) as f:
            return f.read()
    with open(path, encoding="utf-8") as f:
        return f.read()


def load(path: str) -> ClassMap:
    """Reads a class map file: JSON (``.json``) or YAML (any other name).

    Raises:
      ClassMapError: the file is missing, unreadable, not valid JSON/YAML, or
        not a valid class map; the message names the file.
    """
    try:
        text = _read_text(path)
    except (OSError, UnicodeDecodeError) as error:
        raise ClassMapError(f"class map {path}: cannot be read ({error})") from None
    except Exception as error:  # pylint: disable=broad-except  (gfile raises its own kinds)
        raise ClassMapError(f"class map {path}: cannot be read ({error})") from None
    try:
        if os.path.splitext(path)[1].lower() == ".json":
            mapping = json.loads(text)
        else:
            import yaml  # pylint: disable=g-import-not-at-top
            mapping = yaml.safe_load(text)
    except Exception as error:  # pylint: disable=broad-except  (json and yaml errors)
        raise ClassMapError(f"class map {path}: not valid JSON/YAML ({error})") from None
    return from_mapping(mapping, f"class map {path}")


def class_names(class_map: ClassMap) -> Tuple[str, ...]:
    """The class names, in class id order."""
    return tuple(name for name, _ in class_map)


def folder_to_class(class_map: ClassMap) -> Dict[str, str]:
    """Folder name -> class name."""
    return {folder: name for name, folders in class_map for folder in folders}


def to_json(class_map: ClassMap) -> str:
    """Serializes a class map, keeping its order."""
    return json.dumps([[name, list(folders)] for name, folders in class_map])


def from_json(text: str) -> ClassMap:
    """Parses :func:`to_json`'s output."""
    return validate(tuple((name, tuple(folders)) for name, folders in json.loads(text)))
