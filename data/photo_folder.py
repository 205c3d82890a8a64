"""Scanning a photo folder into a trustworthy data set, and saying what was done.

A photo folder has one sub-folder per class (or a class map that groups
sub-folders into classes, see :mod:`imagepipe.data.class_map`); photos may sit
in nested folders below their class folder. :func:`scan` looks at every entry
under the root and either accepts it as a photo of a class or skips it with a
reason; nothing is dropped silently and nothing bad is fatal:

==========================  ==================================================
reason                      what it means
==========================  ==================================================
``hidden``                  hidden or system file/folder (``.DS_Store``,
                            ``Thumbs.db``, ``desktop.ini``, ``__MACOSX``...)
``invalid_name``            the name is not valid UTF-8
``broken_symlink``          a symbolic link whose target is missing
``symlink_loop``            a symbolic link that points back into itself
``outside_folder``          a symbolic link leading outside the folder
``not_a_file``              a FIFO, socket or device
``unreadable``              the file or folder cannot be read
``outside_class_folder``    a file directly in the root, not in a class folder
``left_out``                in a sub-folder the class map leaves out
``empty``                   0 bytes
``not_an_image``            content is not a recognised image
``unsupported_format``      an image, but not JPEG/PNG/BMP/GIF/WebP/TIFF
``decompression_bomb``      more pixels than the configured limit
``too_thin``                a side of 0 pixels once fitted into the model input
``too_large``               a file over the size limit, not read
``truncated`` / ``corrupt`` the image data cannot be decoded completely
``conflicting_duplicate``   the same content under two classes: every copy
``duplicate``               the same content again in the same class
==========================  ==================================================

Format is recognised by content, not by file extension. A skipped folder
(hidden, invalid name, loop, unreadable) is one entry; otherwise every file is
one entry, so ``seen == ingested + skipped`` always.

:func:`assign_splits` splits the accepted photos stratified by class and
deterministically: within a class, photos are ordered by a seeded hash of
their content (renaming or moving files changes nothing) and cut in the
split proportions with at least one photo per split.

Walking and reading (:mod:`imagepipe.data.folder_walk`) never leave the folder
unless told (``ScanLimits.follow_links``) and never read more than the size
limit; reports name files, never quote their content.
"""

from __future__ import annotations

import collections
import concurrent.futures
import dataclasses
import hashlib
import os
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from . import class_map as class_map_lib
from . import images
from .splits import split_counts
# Walking and reading live in folder_walk; callers know these names from here too.
from .folder_walk import (BROKEN_SYMLINK, HIDDEN, INVALID_NAME, NOT_A_FILE,  # noqa: F401
                          OUTSIDE_FOLDER, SYMLINK_LOOP, TOO_LARGE, UNREADABLE, Candidate,
                          FileTooLarge, ScanLimits, Skipped, display_path, is_hidden, is_remote,
                          read_candidate, read_file, valid_utf8, walk)

OUTSIDE_CLASS_FOLDER = "outside_class_folder"
LEFT_OUT = "left_out"
TOO_THIN = "too_thin"
CONFLICTING_DUPLICATE = "conflicting_duplicate"
DUPLICATE = "duplicate"

# Every reason, in the order reports list them, with a short description.
REASONS: Mapping[str, str] = collections.OrderedDict([
    (images.EMPTY, "empty file"),
    (images.TRUNCATED, "truncated image"),
    (images.CORRUPT, "corrupt image"),
    (images.NOT_AN_IMAGE, "not an image"),
    (images.UNSUPPORTED_FORMAT, "unsupported format"),
    (images.DECOMPRESSION_BOMB, "decompression bomb"),
    (TOO_THIN, "too thin for a model input"),
    (TOO_LARGE, "file over the size limit"),
    (UNREADABLE, "unreadable"),
    (BROKEN_SYMLINK, "broken symbolic link"),
    (SYMLINK_LOOP, "symbolic link loop"),
    (OUTSIDE_FOLDER, "symbolic link leading outside the folder"),
    (NOT_A_FILE, "not a regular file"),
    (HIDDEN, "hidden or system file"),
    (INVALID_NAME, "name not valid UTF-8"),
    (CONFLICTING_DUPLICATE, "same content under two classes"),
    (DUPLICATE, "duplicate within a class"),
    (OUTSIDE_CLASS_FOLDER, "outside a class folder"),
    (LEFT_OUT, "left out by the class map"),
])

# Reasons decided from the listing alone, without reading the file.
LISTING_REASONS = (HIDDEN, INVALID_NAME, BROKEN_SYMLINK, SYMLINK_LOOP, NOT_A_FILE,
                   OUTSIDE_FOLDER, OUTSIDE_CLASS_FOLDER, LEFT_OUT)


class FolderError(ValueError):
    """The folder cannot become a data set (no usable image in a class, a split
    missing a class, no folder at all); the message says what to do."""



@dataclasses.dataclass(frozen=True)
class Photo:
    """An accepted photo.

    Attributes:
      path: relative to the root, ``/``-separated.
      class_name: its class.
      folder: the top-level sub-folder it was found in.
      content_hash: SHA-256 of the file's bytes, hex.
      size_bytes: file size.
      format: ``JPEG``, ``PNG``, ``BMP``, ``GIF``, ``WEBP`` or ``TIFF``.
      width: stored width in pixels.
      height: stored height in pixels.
      mode: Pillow colour mode of the file.
      orientation: EXIF orientation tag (1: upright).
    """

    path: str
    class_name: str
    folder: str
    content_hash: str
    size_bytes: int
    format: str
    width: int
    height: int
    mode: str
    orientation: int = 1


@dataclasses.dataclass
class FolderScan:
    """What :func:`scan` found.

    Attributes:
      root: the folder scanned.
      class_map: the class map used (the default one when no file was given).
      default_class_map: True when each sub-folder is its own class.
      max_pixels: the decompression-bomb limit used.
      limits: the other limits used.
      photos: accepted photos, sorted by path.
      skipped: skipped entries, sorted by path.
      missing_folders: folders named by the class map that do not exist.
    """

    root: str
    class_map: class_map_lib.ClassMap
    default_class_map: bool
    max_pixels: int
    photos: List[Photo]
    skipped: List[Skipped]
    missing_folders: Tuple[str, ...] = ()
    limits: ScanLimits = ScanLimits()

    @property
    def seen(self) -> int:
        """Entries looked at: always ``len(photos) + len(skipped)``."""
        return len(self.photos) + len(self.skipped)

    @property
    def class_names(self) -> Tuple[str, ...]:
        return class_map_lib.class_names(self.class_map)

    def counts(self) -> Dict[str, int]:
        """Accepted photos per class, in class order (0 for a class without photos)."""
        counts = collections.Counter(photo.class_name for photo in self.photos)
        return {name: counts.get(name, 0) for name in self.class_names}

    def skipped_by_reason(self) -> Dict[str, int]:
        """Skipped entries per reason, in ``REASONS`` order, reasons seen only."""
        counts = collections.Counter(entry.reason for entry in self.skipped)
        return {reason: counts[reason] for reason in REASONS if counts[reason]}



def _check_root(root: str) -> None:
    if is_remote(root):
        import tensorflow as tf  # pylint: disable=g-import-not-at-top
        is_folder, exists = tf.io.gfile.isdir(root), tf.io.gfile.exists(root)
    else:
        is_folder, exists = os.path.isdir(root), os.path.exists(root)
    if exists and not is_folder:
        raise FolderError(f"{root} is a file, not a folder: give the folder that holds one "
                          f"sub-folder of photos per class")
    if not is_folder:
        raise FolderError(f"photo folder not found: {root}")


def top_folders(root: str) -> Tuple[str, ...]:
    """The sub-folders of ``root`` that can be classes (not hidden, valid names), sorted."""
    _check_root(root)
    if is_remote(root):
        import tensorflow as tf  # pylint: disable=g-import-not-at-top
        names = [n.rstrip("/") for n in tf.io.gfile.listdir(root)
                 if tf.io.gfile.isdir(root.rstrip("/") + "/" + n.rstrip("/"))]
    else:
        names = [n for n in os.listdir(root) if os.path.isdir(os.path.join(root, n))]
    return tuple(sorted(n for n in names if valid_utf8(n) and not is_hidden(n)))


def default_class_map(root: str) -> class_map_lib.ClassMap:
    """One class per sub-folder of ``root``, sorted by name.

    Raises:
      FolderError: the folder is missing or has no sub-folder.
    """
    folders = top_folders(root)
    if not folders:
        raise FolderError(f"{root} has no sub-folder: put the photos of each class in a "
                          f"sub-folder named after the class")
    return class_map_lib.from_folders(folders)


def listing_fingerprint(root: str) -> str:
    """A fingerprint of the folder's listing (paths, sizes, modification times).

    Reads no file content: cheap enough to run before every pipeline run to
    decide whether the cached ingestion is still valid.
    """
    digest = hashlib.sha256()
    count = 0
    for entry in walk(root):
        if isinstance(entry, Candidate):
            line = f"{display_path(entry.parts)}\t{entry.size}\t{entry.mtime_ns}"
        else:
            line = f"{entry.path}\t{entry.reason}"
        digest.update(line.encode("utf-8") + b"\n")
        count += 1
    return f"folder:{root},entries:{count},sha256:{digest.hexdigest()}"


# ---------------------------------------------------------------- reading


def content_hash(data: bytes) -> str:
    """SHA-256 of ``data``, hex."""
    return hashlib.sha256(data).hexdigest()


@dataclasses.dataclass(frozen=True)
class _Checked:
    candidate: Candidate
    class_name: str
    digest: str
    size: int
    info: images.ImageInfo


def _thin(path: str, info: images.ImageInfo, limits: ScanLimits) -> Optional[Skipped]:
    """Why an image is too thin for the model input (a side of 0 pixels there), or None."""
    if limits.image_size is None:
        return None
    fitted = images.fitted_size(info.width, info.height, limits.max_side, limits.image_size)
    if min(fitted) >= 1:
        return None
    return Skipped(path, TOO_THIN, f"{info.width}x{info.height}: fitted into the "
                                   f"{limits.image_size}x{limits.image_size} model input it "
                                   f"would be {fitted[0]}x{fitted[1]} pixels")


def _check_content(candidate: Candidate, class_name: str, max_pixels: int,
                   limits: ScanLimits) -> Union[_Checked, Skipped]:
    data = read_candidate(candidate, limits.max_file_bytes)
    if isinstance(data, Skipped):
        return data
    path = display_path(candidate.parts)
    try:
        info = images.inspect_image(data, max_pixels)
    except images.BadImage as bad:
        return Skipped(path, bad.reason, bad.detail)
    return _thin(path, info, limits) or _Checked(candidate, class_name, content_hash(data),
                                                 len(data), info)


def _deduplicate(checked: Sequence[_Checked]) -> Tuple[List[Photo], List[Skipped]]:
    """Drops every copy of content found under two classes, and repeats within a class."""
    groups: Dict[str, List[_Checked]] = collections.defaultdict(list)
    for item in checked:
        groups[item.digest].append(item)
    photos, skipped = [], []
    for group in groups.values():
        group.sort(key=lambda item: item.candidate.parts)
        paths = [display_path(item.candidate.parts) for item in group]
        classes = sorted({item.class_name for item in group})
        if len(classes) > 1:
            where = "; ".join(f"{item.class_name}: {path}" for item, path in zip(group, paths))
            for path in paths:
                skipped.append(Skipped(path, CONFLICTING_DUPLICATE,
                                       f"the same content is under classes "
                                       f"{', '.join(classes)} ({where})"))
            continue
        first = group[0]
        photos.append(Photo(
            path=paths[0], class_name=first.class_name, folder=first.candidate.parts[0],
            content_hash=first.digest, size_bytes=first.size, format=first.info.format,
            width=first.info.width, height=first.info.height, mode=first.info.mode,
            orientation=first.info.orientation))
        skipped.extend(Skipped(path, DUPLICATE, f"the same content as {paths[0]}, which is kept")
                       for path in paths[1:])
    return photos, skipped


def _place(entry: Candidate, folder_class: Mapping[str, str],
           default_map: bool) -> Union[str, Skipped]:
    """The class of a candidate, or why it belongs to none."""
    if len(entry.parts) == 1:
        return Skipped(display_path(entry.parts), OUTSIDE_CLASS_FOLDER,
                       "directly in the root folder, not in a class sub-folder")
    folder = entry.parts[0]
    if folder not in folder_class:
        detail = (f"folder {folder!r} is not in the class map" if not default_map
                  else f"folder {folder!r} is not a class")
        return Skipped(display_path(entry.parts), LEFT_OUT, detail)
    return folder_class[folder]


def scan(root: str, class_map: Optional[class_map_lib.ClassMap] = None,
         max_pixels: int = images.DEFAULT_MAX_PIXELS, workers: Optional[int] = None,
         progress: Optional[Callable[[int, int], None]] = None,
         limits: ScanLimits = ScanLimits()) -> FolderScan:
    """Looks at every entry under ``root``: each is a photo of a class or skipped.

    Every image is decoded fully once (with Pillow, in a thread pool), so a
    file accepted here can be ingested.

    Args:
      root: the photo folder, local or ``gs://``.
      class_map: which sub-folders make up which class; None: one class per
        sub-folder.
      max_pixels: the largest width x height accepted.
      workers: threads that read and decode; default: the number of CPUs.
      progress: called with (files checked, files to check) now and then.
      limits: file size, model input and symbolic link limits.

    Returns:
      The scan; fatal problems are not raised here, see :func:`problems`.

    Raises:
      FolderError: ``root`` does not exist or, without a class map, has no sub-folder.
    """
    _check_root(root)
    if class_map is None:
        class_map, default_map = default_class_map(root), True
    else:  # a class map equal to the default one (e.g. from the config) is the default
        class_map = class_map_lib.validate(tuple(class_map))
        default_map = class_map == class_map_lib.from_folders(top_folders(root))
    folder_class = class_map_lib.folder_to_class(class_map)
    skipped: List[Skipped] = []
    placed: List[Tuple[Candidate, str]] = []
    seen_folders = set()
    for entry in walk(root, limits.follow_links):
        if isinstance(entry, Skipped):
            skipped.append(entry)
            continue
        seen_folders.add(entry.parts[0])
        where = _place(entry, folder_class, default_map)
        if isinstance(where, Skipped):
            skipped.append(where)
        else:
            placed.append((entry, where))
    checked = _check_all(placed, lambda item: _check_content(*item, max_pixels, limits),
                         workers, progress, skipped)
    photos, duplicates = _deduplicate(checked)
    skipped.extend(duplicates)
    existing = set(top_folders(root)) | seen_folders
    missing = tuple(folder for folder in folder_class if folder not in existing)
    return FolderScan(root=root, class_map=class_map, default_class_map=default_map,
                      max_pixels=max_pixels, limits=limits,
                      photos=sorted(photos, key=lambda p: p.path),
                      skipped=sorted(skipped, key=lambda s: s.path), missing_folders=missing)


def _check_all(placed: Sequence[Tuple[Candidate, str]],
               check: Callable[[Tuple[Candidate, str]], Union[_Checked, Skipped]],
               workers: Optional[int], progress: Optional[Callable[[int, int], None]],
               skipped: List[Skipped]) -> List[_Checked]:
    workers = workers or os.cpu_count() or 1
    checked: List[_Checked] = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        results = pool.map(check, placed)
        for done, result in enumerate(results, 1):
            (skipped if isinstance(result, Skipped) else checked).append(result)
            if progress and (done % 50 == 0 or done == len(placed)):
                progress(done, len(placed))
    return checked


# ---------------------------------------------------------------- splits


def _order_key(seed: int, photo: Photo) -> str:
    return hashlib.sha256(f"{seed}:{photo.content_hash}".encode()).hexdigest()


MIN_CLASSES = 2


def class_count_problem(class_names: Sequence[str]) -> Optional[str]:
    """Why a class map with these classes cannot train a classifier, or None."""
    if len(class_names) >= MIN_CLASSES:
        return None
    shown = ", ".join(repr(name) for name in class_names) or "none"
    return (f"a classifier needs at least {MIN_CLASSES} classes, the folder has "
            f"{len(class_names)} ({shown}): add a sub-folder per class")


def problems(folder_scan: FolderScan, split_names: Sequence[str] = ()) -> List[str]:
    """What stops ``folder_scan`` from becoming a data set with these splits.

    The one readiness check of a photo folder: ``imagepipe inspect`` shows it,
    ``imagepipe run folder`` refuses to start on it, FolderExampleGen stops on it.

    Returns:
      One message per problem: fewer than two classes, a class with no usable
      image, or with fewer usable images than splits (a split would miss it).
      Empty when fine.
    """
    few = class_count_problem(folder_scan.class_names)
    messages = [few] if few else []
    by_class = collections.defaultdict(list)
    for entry in folder_scan.skipped:
        by_class[entry.path.split("/", 1)[0]].append(entry)
    for name, count in folder_scan.counts().items():
        folders = dict(folder_scan.class_map)[name]
        if count == 0:
            bad = [e for folder in folders for e in by_class.get(folder, [])]
            shown = "; ".join(f"{e.path}: {e.reason}" for e in bad[:5])
            more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
            found = (f"{len(bad)} file{'s' if len(bad) != 1 else ''} skipped ({shown}{more})"
                     if bad
                     else "no file found in " + ", ".join(f"{f}/" for f in folders))
            messages.append(f"class {name!r} has no usable image: {found}")
        elif split_names and count < len(split_names):
            messages.append(
                f"class {name!r} has {count} usable image{'s' if count > 1 else ''}; each of "
                f"the {len(split_names)} splits ({', '.join(split_names)}) needs at least one: "
                f"add photos of {name!r}")
    return messages


def assign_splits(photos: Sequence[Photo], splits: Sequence[Tuple[str, int]],
                  seed: int) -> Dict[str, str]:
    """Assigns each photo to a split, stratified by class and deterministic.

    Args:
      photos: the accepted photos.
      splits: (split name, relative size) pairs, e.g. train 14, eval 3, test 3.
      seed: changes the order in which a class's photos are cut.

    Returns:
      Photo path -> split name.

    Raises:
      FolderError: a class has fewer photos than there are splits.
    """
    by_class: Dict[str, List[Photo]] = collections.defaultdict(list)
    for photo in photos:
        by_class[photo.class_name].append(photo)
    names, ratios = [name for name, _ in splits], [ratio for _, ratio in splits]
    assignment: Dict[str, str] = {}
    for class_name, members in sorted(by_class.items()):
        if len(members) < len(names):
            raise FolderError(f"class {class_name!r} has {len(members)} usable images; each of "
                              f"the {len(names)} splits needs at least one")
        members.sort(key=lambda photo: (_order_key(seed, photo), photo.path))
        start = 0
        for name, count in zip(names, split_counts(len(members), ratios)):
            for photo in members[start:start + count]:
                assignment[photo.path] = name
            start += count
    return assignment
