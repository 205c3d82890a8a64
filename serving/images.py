"""Image files for requests: finding them, checking them, classifying them in batches.

A file that is not an image, or that the model rejects, is reported with the
reason and the rest are still classified. Files that a folder holds beside its
images (other suffixes, hidden files and folders) are listed as skipped, with
why, never dropped silently.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Iterable, List, Optional, Sequence, Tuple

from imagepipe.serving.client import Prediction, ServerError, ServingClient, batches

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp")
_MAGIC = ((b"\x89PNG\r\n\x1a\n", "PNG"), (b"\xff\xd8\xff", "JPEG"), (b"GIF87a", "GIF"),
          (b"GIF89a", "GIF"), (b"BM", "BMP"))
NOT_AN_IMAGE = "not a PNG, JPEG, GIF or BMP image"


@dataclasses.dataclass
class ImageResult:
    """One file's outcome: a prediction, an error message, or why it was not sent."""

    path: str
    prediction: Optional[Prediction] = None
    error: Optional[str] = None
    skipped: Optional[str] = None


def image_format(data: bytes) -> Optional[str]:
    """Returns ``PNG``, ``JPEG``, ``GIF`` or ``BMP`` from the file's first bytes; else None."""
    for magic, name in _MAGIC:
        if data.startswith(magic):
            return name
    return None


HIDDEN = "hidden"
NOT_AN_IMAGE_NAME = f"not an image name ({', '.join(IMAGE_SUFFIXES)})"


def _folder_images(folder: str) -> Tuple[List[str], List[ImageResult]]:
    """The image files under ``folder`` (sorted), and the entries skipped with their reason."""
    found: List[str] = []
    skipped: List[ImageResult] = []
    for root, dirs, files in os.walk(folder):
        hidden = sorted(d for d in dirs if d.startswith("."))
        skipped.extend(ImageResult(os.path.join(root, d) + os.sep, skipped=f"{HIDDEN} folder")
                       for d in hidden)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = os.path.join(root, name)
            if name.startswith("."):
                skipped.append(ImageResult(path, skipped=f"{HIDDEN} file"))
            elif not name.lower().endswith(IMAGE_SUFFIXES):
                skipped.append(ImageResult(path, skipped=NOT_AN_IMAGE_NAME))
            else:
                found.append(path)
    return found, skipped


def find_images(paths: Iterable[str]) -> Tuple[List[str], List[ImageResult]]:
    """Expands files and folders (recursively, image suffixes only) into image files.

    Returns:
      The files, in the order given (folders sorted), and a result for each
      path that does not exist (an error) and each folder entry passed over
      (skipped, with the reason).
    """
    files: List[str] = []
    others: List[ImageResult] = []
    for path in paths:
        if os.path.isdir(path):
            found, skipped = _folder_images(path)
            files.extend(found)
            others.extend(skipped)
        elif os.path.isfile(path):
            files.append(path)
        else:
            others.append(ImageResult(path, error="no such file or folder"))
    return files, others


def read_image(path: str) -> bytes:
    """Reads an encoded image file.

    Raises:
      OSError: when the file cannot be read.
      ValueError: when it is not a PNG, JPEG, GIF or BMP image.
    """
    with open(path, "rb") as f:
        data = f.read()
    if image_format(data) is None:
        raise ValueError(NOT_AN_IMAGE)
    return data


def _classify_batch(client: ServingClient, batch: Sequence[Tuple[str, bytes]],
                    version: Optional[int], label: Optional[str]) -> List[ImageResult]:
    try:
        predictions = client.predict_images([data for _, data in batch], version, label)
    except ServerError as error:
        if error.status != 400:
            raise
        if len(batch) == 1:
            return [ImageResult(batch[0][0], error=error.message)]
        # The batch was refused: ask image by image to find the culprits.
        return [result for item in batch
                for result in _classify_batch(client, [item], version, label)]
    return [ImageResult(path, prediction=p) for (path, _), p in zip(batch, predictions)]


def classify_files(client: ServingClient, paths: Iterable[str], batch_size: int = 32,
                   version: Optional[int] = None, label: Optional[str] = None
                   ) -> List[ImageResult]:
    """Classifies image files and folders through ``client``, ``batch_size`` images a request.

    Returns:
      One result per file (in order), then one per missing path or skipped
      folder entry.

    Raises:
      ClientError: when the server cannot be reached or refuses the model,
        version or label (errors about single images are results instead).
    """
    files, others = find_images(paths)
    if files:
        # An unknown model, version or label fails here, once. (Metadata, not status: TF
        # Serving's status answers for any label.)
        client.metadata(version, label)
    results: List[ImageResult] = []
    readable: List[Tuple[str, bytes]] = []
    for path in files:
        try:
            readable.append((path, read_image(path)))
        except (OSError, ValueError) as error:
            results.append(ImageResult(path, error=str(error)))
    for batch in batches(readable, batch_size):
        results.extend(_classify_batch(client, batch, version, label))
    order = {path: i for i, path in enumerate(files)}
    return sorted(results, key=lambda r: order[r.path]) + others
