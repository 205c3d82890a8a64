"""The pixel limit of served requests: image headers are read before the model decodes anything.

A served model decodes the image bytes it is sent (``tf.io.decode_image``), and a
small file can claim a huge picture: a 518 KB PNG of 20000x20000 pixels decodes to
1.2 GB of RGB, and several times that as floats. So before a request reaches the
model, :func:`check_request` reads the header of every image in its string inputs
(raw image bytes, or serialized tf.Examples holding them) and refuses the request
(400, naming the image, its size and the limit) when its images hold more pixels
together than ``imagepipe serve --max-pixels``. Reading a header allocates nothing
in proportion to the pixels; nothing is decoded here.
"""

from __future__ import annotations

import dataclasses
import io
from typing import Iterator, List, Mapping, Optional

import numpy as np
from google.protobuf import message as protobuf_message
from PIL import Image
from tensorflow.core.example import example_pb2

from imagepipe.serving.status import ServingError, invalid_argument

# One 24-megapixel photo (6000x4000), or 366 images of 256x256, per request.
DEFAULT_MAX_PIXELS = 24_000_000
# Our limit replaces Pillow's global one, which would refuse headers we only read
# (imagepipe.data.images does the same for ingestion).
Image.MAX_IMAGE_PIXELS = None


@dataclasses.dataclass(frozen=True)
class ImageHeader:
    """What an image's header claims: where it is in the request, format and size."""

    where: str
    format: str
    width: int
    height: int

    @property
    def pixels(self) -> int:
        """Width times height."""
        return self.width * self.height

    def __str__(self) -> str:
        return f"{self.where} is a {self.width}x{self.height} {self.format} " \
               f"({self.pixels:,} pixels)"


def read_header(data: bytes, where: str = "the image") -> Optional[ImageHeader]:
    """The format and size that ``data``'s header claims; None when it is no image.

    Only the header is read (Pillow opens lazily); nothing is decoded.
    """
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            return ImageHeader(where, str(image.format), int(width), int(height))
    except Exception:  # pylint: disable=broad-except  (not an image: the model says so)
        return None


def _example_images(data: bytes, where: str) -> Iterator[ImageHeader]:
    """The images inside a serialized tf.Example (bytes features); none when it is not one."""
    try:
        example = example_pb2.Example.FromString(data)
    except (protobuf_message.DecodeError, RuntimeWarning, ValueError):
        return
    for name, feature in sorted(example.features.feature.items()):
        for index, value in enumerate(feature.bytes_list.value):
            header = read_header(value, f"{where} feature {name!r}[{index}]")
            if header:
                yield header


def request_images(inputs: Mapping[str, np.ndarray]) -> List[ImageHeader]:
    """The headers of every image in a request's string inputs, by input name and index."""
    headers: List[ImageHeader] = []
    for name, array in sorted(inputs.items()):
        if array.dtype != object:
            continue
        for index, value in enumerate(np.asarray(array).reshape(-1)):
            if not isinstance(value, bytes):
                continue
            where = f"input {name!r} value {index}"
            header = read_header(value, where)
            headers.extend([header] if header else _example_images(value, where))
    return headers


def check_request(inputs: Mapping[str, np.ndarray], max_pixels: int) -> None:
    """Refuses a request whose images hold more than ``max_pixels`` pixels together.

    Raises:
      ServingError: INVALID_ARGUMENT naming the largest image, its size and the limit.
    """
    headers = request_images(inputs)
    total = sum(header.pixels for header in headers)
    if total <= max_pixels:
        return
    largest = max(headers, key=lambda header: header.pixels)
    if len(headers) == 1:
        what = str(largest)
    else:
        what = f"its {len(headers)} images hold {total:,} pixels together (the largest: {largest})"
    raise too_many_pixels(what, max_pixels)


def too_many_pixels(what: str, max_pixels: int) -> ServingError:
    """The refusal of a request over the pixel limit, naming the limit and its option."""
    return invalid_argument(f"Image too large: {what}; a request may hold at most "
                            f"{max_pixels:,} pixels (imagepipe serve --max-pixels). Nothing was "
                            f"decoded.")
