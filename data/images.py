"""Validating and normalising one encoded image with Pillow.

Two functions share one decoding path, so that what ingestion accepts is
exactly what it can normalise:

* :func:`inspect_image` checks that bytes are a complete, supported image
  (JPEG, PNG, BMP, GIF, WebP or TIFF, identified by content, not by file
  extension) within a pixel limit, by decoding it fully; it raises
  :class:`BadImage` with a reason code otherwise.
* :func:`normalise` turns any accepted image into 8-bit RGB, upright: the first
  frame of a GIF, WebP or TIFF; EXIF orientation applied; grayscale, palette,
  CMYK and 16-bit images converted; transparency composited on white; the
  longer side reduced to ``max_side``. :func:`stored_copy` encodes that as
  PNG (lossless, fastest compression level), the copy ingestion stores and the
  Transform graph decodes (TensorFlow itself decodes only JPEG, PNG, GIF and
  BMP, and ignores EXIF orientation). PNG rather than BMP: BMP is free to
  write, but the ExampleGen gzips its TFRecords in one serial sink, where the
  larger BMP costs more (measured 31 ms per photo) than PNG encoding does in
  the parallel workers (22 + 6 ms), for the same size on disk.

Clients of a served photo model that want exactly the pixels seen in training
send ``normalised_png(original_bytes)``, the same bytes; see docs/folders.md.
"""

from __future__ import annotations

import dataclasses
import io
from typing import Optional, Tuple

import numpy as np
from PIL import Image, ImageOps

# Pillow format name -> the name reported. MPO is the multi-picture JPEG that
# many phones write; DIB is a BMP without its file header.
SUPPORTED_FORMATS = {
    "JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "BMP": "BMP", "DIB": "BMP",
    "GIF": "GIF", "WEBP": "WEBP", "TIFF": "TIFF",
}
SUPPORTED_FORMAT_NAMES = ("JPEG", "PNG", "BMP", "GIF", "WEBP", "TIFF")
DEFAULT_MAX_PIXELS = 100_000_000  # above every phone camera's default mode
DEFAULT_MAX_SIDE = 512  # longer side of the normalised copy
BACKGROUND = (255, 255, 255)  # transparency is composited on white

# Reason codes of BadImage.
EMPTY = "empty"
NOT_AN_IMAGE = "not_an_image"
UNSUPPORTED_FORMAT = "unsupported_format"
DECOMPRESSION_BOMB = "decompression_bomb"
TRUNCATED = "truncated"
CORRUPT = "corrupt"

# Containers Pillow cannot open but users have: named so the message helps.
_FOREIGN_SIGNATURES = (
    (4, b"ftypheic", "HEIC"), (4, b"ftypheix", "HEIC"), (4, b"ftyphevc", "HEIC"),
    (4, b"ftypmif1", "HEIF"), (4, b"ftypmsf1", "HEIF"), (0, b"%PDF", "PDF"),
    (0, b"8BPS", "PSD"), (4, b"ftypcrx ", "Canon RAW"),
)
# Signatures of the supported formats: a file that starts like one of them but
# cannot be opened is corrupt, not "not an image".
_SUPPORTED_SIGNATURES = (
    (0, b"\xff\xd8\xff", "JPEG"), (0, b"\x89PNG\r\n\x1a\n", "PNG"), (0, b"GIF8", "GIF"),
    (0, b"BM", "BMP"), (8, b"WEBP", "WEBP"), (0, b"II*\x00", "TIFF"), (0, b"MM\x00*", "TIFF"),
)
# Modes Pillow resamples as they are (alpha premultiplied): resized before to_rgb.
_RESAMPLED_MODES = ("RGB", "RGBA", "L", "LA", "CMYK")
_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")
_SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")


class BadImage(ValueError):
    """Bytes that are not a usable image; ``reason`` is one of the codes above."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclasses.dataclass(frozen=True)
class ImageInfo:
    """What :func:`inspect_image` learnt about a valid image.

    Attributes:
      format: the format, one of ``SUPPORTED_FORMAT_NAMES``.
      width: stored width in pixels (before EXIF orientation).
      height: stored height in pixels.
      mode: Pillow colour mode, e.g. ``RGB``, ``P``, ``CMYK``, ``I;16``.
      frames: number of frames (animations, multi-page TIFF); only the first is used.
      orientation: EXIF orientation tag (1 when absent).
    """

    format: str
    width: int
    height: int
    mode: str
    frames: int
    orientation: int


def _signature(data: bytes, signatures) -> Optional[str]:
    for offset, signature, name in signatures:
        if data[offset:offset + len(signature)] == signature:
            return name
    return None


# Our own limit (``max_pixels``, the CLI's ``--max-pixels``) replaces Pillow's global one,
# whose refusals quoted Pillow's number, not the limit the user set.
Image.MAX_IMAGE_PIXELS = None


def open_image(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """Opens (without decoding) a supported image and checks its pixel count.

    Args:
      data: the encoded image.
      max_pixels: the largest width x height accepted.

    Returns:
      The lazily opened Pillow image, at its first frame.

    Raises:
      BadImage: empty, not an image, an unsupported format, or too many pixels.
    """
    if not data:
        raise BadImage(EMPTY, "empty file (0 bytes)")
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as error:
        raise BadImage(DECOMPRESSION_BOMB, str(error)) from None
    except Exception as error:  # pylint: disable=broad-except  (Pillow raises many kinds)
        claimed = _signature(data, _SUPPORTED_SIGNATURES)
        if claimed:
            raise BadImage(CORRUPT, f"starts like {claimed} but cannot be opened, truncated or "
                                    f"corrupt ({type(error).__name__}: {error})") from None
        foreign = _signature(data, _FOREIGN_SIGNATURES)
        if foreign:
            raise BadImage(UNSUPPORTED_FORMAT, f"{foreign} is not supported; convert it to "
                                               f"JPEG or PNG") from None
        # The file's bytes are never quoted: reports must not carry what a file holds.
        raise BadImage(NOT_AN_IMAGE, f"content is not a recognised image ({len(data):,} "
                                     f"bytes, no image signature)") from None
    if image.format not in SUPPORTED_FORMATS:
        raise BadImage(UNSUPPORTED_FORMAT, f"{image.format} is not supported (supported: "
                                           f"{', '.join(SUPPORTED_FORMAT_NAMES)})")
    width, height = image.size
    if width * height > max_pixels:
        raise BadImage(DECOMPRESSION_BOMB, f"{width}x{height} = {width * height:,} pixels, "
                                           f"more than the limit of {max_pixels:,} "
                                           f"(--max-pixels)")
    if width == 0 or height == 0:
        raise BadImage(CORRUPT, f"image has no pixels ({width}x{height})")
    return image


def _load(image: Image.Image) -> None:
    """Decodes the current frame fully; truncated or corrupt data raise BadImage."""
    try:
        image.load()
    except Image.DecompressionBombError as error:
        raise BadImage(DECOMPRESSION_BOMB, str(error)) from None
    except Exception as error:  # pylint: disable=broad-except
        message = str(error) or type(error).__name__
        truncated = isinstance(error, EOFError) or "truncat" in message.lower()
        raise BadImage(TRUNCATED if truncated else CORRUPT, message) from None


def _orientation(image: Image.Image) -> int:
    try:
        return int(image.getexif().get(0x0112, 1) or 1)
    except Exception:  # pylint: disable=broad-except  (a broken EXIF block is not fatal)
        return 1


def inspect_image(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageInfo:
    """Checks that ``data`` is a complete, supported image by decoding it fully.

    Args:
      data: the encoded image.
      max_pixels: the largest width x height accepted (decompression bombs).

    Returns:
      What the image is.

    Raises:
      BadImage: with reason ``empty``, ``not_an_image``, ``unsupported_format``,
        ``decompression_bomb``, ``truncated`` or ``corrupt``.
    """
    image = open_image(data, max_pixels)
    orientation = _orientation(image)
    _load(image)
    to_rgb(image.crop((0, 0, 1, 1)))  # a mode that cannot become RGB fails here, not at ingestion
    return ImageInfo(format=SUPPORTED_FORMATS[image.format], width=image.size[0],
                     height=image.size[1], mode=image.mode, frames=_frames(image),
                     orientation=orientation)


def upright_size(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> Tuple[int, int]:
    """(width, height) of an image as it is shown, EXIF orientation applied; reads the header only.

    Raises:
      BadImage: as :func:`open_image`.
    """
    image = open_image(data, max_pixels)
    width, height = image.size
    # Orientations 5 to 8 turn the picture by a quarter: its sides swap.
    return (height, width) if _orientation(image) >= 5 else (width, height)


def _frames(image: Image.Image) -> int:
    """Counts the frames; a later frame cut off makes the file truncated."""
    try:
        return int(getattr(image, "n_frames", 1))
    except Exception as error:  # pylint: disable=broad-except
        raise BadImage(TRUNCATED, f"a later frame is truncated or corrupt "
                                  f"({type(error).__name__}: {error})") from None


def _sixteen_bit_to_l(image: Image.Image) -> Image.Image:
    values = np.asarray(image, dtype=np.float64)
    if image.mode == "I" and values.max(initial=0) <= 255:
        scaled = values  # 8-bit values in a 32-bit container
    else:
        scaled = values / 257.0  # 0..65535 -> 0..255
    return Image.fromarray(np.clip(np.rint(scaled), 0, 255).astype(np.uint8), mode="L")


def _float_to_l(image: Image.Image) -> Image.Image:
    values = np.asarray(image, dtype=np.float64)
    if values.max(initial=0) <= 1.0:
        values = values * 255.0
    return Image.fromarray(np.clip(np.rint(values), 0, 255).astype(np.uint8), mode="L")


def to_rgb(image: Image.Image) -> Image.Image:
    """Converts a decoded image of any colour mode to 8-bit RGB.

    Transparency is composited on white; 16-bit values are scaled to 8 bits.

    Raises:
      BadImage: the colour mode cannot be converted (reason ``unsupported_format``).
    """
    mode = image.mode
    if mode == "RGB":
        return image
    if mode in _SIXTEEN_BIT_MODES:
        return _sixteen_bit_to_l(image).convert("RGB")
    if mode == "F":
        return _float_to_l(image).convert("RGB")
    if mode == "P" and "transparency" in image.info:
        image, mode = image.convert("RGBA"), "RGBA"
    if mode in _ALPHA_MODES:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, BACKGROUND + (255,))
        return Image.alpha_composite(background, rgba).convert("RGB")
    try:
        return image.convert("RGB")
    except Exception as error:  # pylint: disable=broad-except
        raise BadImage(UNSUPPORTED_FORMAT, f"colour mode {mode} cannot be converted to RGB "
                                           f"({error})") from None


def _fit(size, max_side: int):
    width, height = size
    scale = max_side / max(width, height)
    if scale >= 1.0:
        return size
    return max(1, round(width * scale)), max(1, round(height * scale))


def fitted_size(width: int, height: int, max_side: int, image_size: int) -> Tuple[int, int]:
    """The size a width x height image takes inside the square model input, whole (padded).

    The stored copy's longer side is first reduced to ``max_side`` (rounded, as
    :func:`normalise`), then Transform's ``tf.image.resize_with_pad`` scales it
    to fit ``image_size`` (in float32, floored, as TensorFlow does). A side of 0
    means no model input can be made from the image.
    """
    stored_width, stored_height = _fit((width, height), max_side)
    ratio = max(np.float32(stored_width) / np.float32(image_size),
                np.float32(stored_height) / np.float32(image_size))
    return (int(np.floor(np.float32(stored_width) / ratio)),
            int(np.floor(np.float32(stored_height) / ratio)))


def normalise(data: bytes, max_side: Optional[int] = DEFAULT_MAX_SIDE,
              max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """Decodes any accepted image to an upright 8-bit RGB image.

    Args:
      data: the encoded image (any supported format and colour mode).
      max_side: the longer side is reduced to this many pixels when larger
        (Lanczos); None keeps the size.
      max_pixels: the largest width x height accepted.

    Returns:
      An RGB Pillow image: first frame, EXIF orientation applied, alpha
      composited on white.

    Raises:
      BadImage: as :func:`inspect_image`.
    """
    image = open_image(data, max_pixels)
    if max_side and image.format in ("JPEG", "MPO"):
        image.draft("RGB", (max_side, max_side))  # DCT scaling: at least max_side kept
    _load(image)
    image = ImageOps.exif_transpose(image, in_place=False) if _orientation(image) != 1 else image
    if image.mode not in _RESAMPLED_MODES:
        image = to_rgb(image)
    target = _fit(image.size, max_side) if max_side else image.size
    if target != image.size:  # before the colour conversion: fewer pixels to convert
        image = image.resize(target, Image.Resampling.LANCZOS)
    return to_rgb(image)


def encode_png(image: Image.Image, compress_level: int = 1) -> bytes:
    """Encodes a Pillow image as PNG bytes."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=compress_level)
    return buffer.getvalue()


def stored_copy(data: bytes, max_side: Optional[int] = DEFAULT_MAX_SIDE,
                max_pixels: int = DEFAULT_MAX_PIXELS) -> bytes:
    """Returns :func:`normalise` of ``data`` as PNG: the copy ingestion stores for Transform."""
    return encode_png(normalise(data, max_side, max_pixels))


def normalised_png(data: bytes, max_side: Optional[int] = DEFAULT_MAX_SIDE,
                   max_pixels: int = DEFAULT_MAX_PIXELS) -> bytes:
    """Returns :func:`normalise` of ``data`` as PNG: what clients send for training's pixels.

    The same bytes as :func:`stored_copy`, named for clients of served models.
    """
    return encode_png(normalise(data, max_side, max_pixels))
