"""Generators of messy, photo-like class folders for tests, demos and benchmarks.

A generated folder looks like what people really have: photos of pencils, pens
and markers (each class its own shape and colours, on varied, noisy
backgrounds, at varied sizes and angles, so that a small CNN learns them) in
every supported format and colour mode, with the phone's EXIF orientation,
plus every kind of bad file ingestion must skip. :class:`MessyFolder` says
what ingestion must make of each path.

    python -m imagepipe.testing.photo_fixtures OUT_DIR --per-class 100
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import math
import os
import shutil
import struct
import sys
import zlib
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from imagepipe.data import images, photo_folder

DEFAULT_CLASSES = ("markers", "pencils", "pens")


# ---------------------------------------------------------------- drawing

# Per class: (length, thickness) as fractions of the shorter image side, body colours.
_SHAPES = (
    (0.55, 0.24, ((40, 160, 60), (220, 40, 140), (120, 50, 200), (250, 140, 0))),  # thick, short
    (0.95, 0.055, ((240, 200, 30), (230, 120, 20), (200, 170, 90))),  # long and thin
    (0.75, 0.11, ((20, 40, 160), (20, 20, 20), (180, 20, 20))),  # medium, with a clip
)


def _background(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    """A desk-, paper- or shop-like background: a tinted gradient with noise."""
    top = rng.uniform(90, 250, 3)
    bottom = np.clip(top + rng.uniform(-70, 40, 3), 0, 255)
    ramp = np.linspace(0.0, 1.0, height)[:, None, None]
    canvas = top * (1 - ramp) + bottom * ramp + np.zeros((height, width, 3))
    canvas += rng.normal(0.0, rng.uniform(2, 12), canvas.shape)
    return Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8), "RGB")


def _rotated_box(cx: float, cy: float, length: float, thickness: float, angle: float,
                 start: float = -0.5, end: float = 0.5) -> List[Tuple[float, float]]:
    """Corners of the part [start, end] (fractions of length) of a rotated bar."""
    ux, uy = math.cos(angle), math.sin(angle)
    vx, vy = -uy, ux
    a, b, t = start * length, end * length, thickness / 2.0
    return [(cx + ux * s + vx * w, cy + uy * s + vy * w)
            for s, w in ((a, -t), (b, -t), (b, t), (a, t))]


def draw_object(class_index: int, rng: np.random.Generator, width: int,
                height: int) -> Tuple[Image.Image, Image.Image]:
    """Draws one photo of class ``class_index``.

    Returns:
      (RGB image, L mask of the object: 255 on the object).
    """
    length_f, thickness_f, colours = _SHAPES[class_index % len(_SHAPES)]
    side = min(width, height)
    scale = rng.uniform(0.8, 1.1)
    length, thickness = length_f * side * scale, max(2.0, thickness_f * side * scale)
    angle = rng.uniform(-0.6, 0.6) + (math.pi if rng.random() < 0.5 else 0.0)  # lying, tilted
    cx = width / 2 + rng.uniform(-0.12, 0.12) * width
    cy = height / 2 + rng.uniform(-0.12, 0.12) * height
    body = tuple(int(c) for c in np.clip(np.array(colours[rng.integers(len(colours))])
                                         + rng.normal(0, 12, 3), 0, 255))
    image = _background(rng, width, height)
    mask = Image.new("L", (width, height), 0)
    draw, mask_draw = ImageDraw.Draw(image), ImageDraw.Draw(mask)
    parts = [(_rotated_box(cx, cy, length, thickness, angle), body)]
    kind = class_index % len(_SHAPES)
    if kind == 0:  # marker: a cap of another colour
        cap = tuple(int(255 - c * 0.6) for c in body)
        parts.append((_rotated_box(cx, cy, length, thickness * 1.1, angle, 0.3, 0.5), cap))
    elif kind == 1:  # pencil: a sharpened tip
        tip = _rotated_box(cx, cy, length, thickness, angle, 0.5, 0.6)
        point = (tip[1][0] + tip[2][0]) / 2, (tip[1][1] + tip[2][1]) / 2
        parts.append(([tip[0], point, tip[3]], (235, 200, 160)))
    else:  # pen: a thin clip beside the body
        clip = _rotated_box(cx, cy, length, thickness * 0.35, angle, 0.1, 0.45)
        offset = thickness * 0.6
        clip = [(x - math.sin(angle) * offset, y + math.cos(angle) * offset) for x, y in clip]
        parts.append((clip, (200, 200, 210)))
    for polygon, colour in parts:
        draw.polygon(polygon, fill=colour)
        mask_draw.polygon(polygon, fill=255)
    if rng.random() < 0.5:
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.0)))
    return image, mask


# ---------------------------------------------------------------- encodings


def _save(image: Image.Image, path: str, fmt: str, **options) -> None:
    image.save(path, format=fmt, **options)


def _exif_rotated_jpeg(image: Image.Image, mask: Image.Image, path: str) -> None:
    # Store the pixels as a phone held upright does: rotated, with orientation 6
    # (display rotated 90 degrees clockwise) so that the upright image comes back.
    del mask
    exif = Image.Exif()
    exif[0x0112] = 6
    image.transpose(Image.Transpose.ROTATE_90).save(path, format="JPEG", quality=90,
                                                    exif=exif.tobytes())


def _rgba_png(image: Image.Image, mask: Image.Image, path: str) -> None:
    alpha = mask.point(lambda v: 255 if v else 0)  # a product cut out on transparency
    rgba = image.convert("RGBA")
    rgba.putalpha(alpha)
    rgba.save(path, format="PNG")


def _sixteen_bit(image: Image.Image) -> Image.Image:
    values = np.asarray(image.convert("L"), dtype=np.uint16) * 257
    return Image.fromarray(values)  # mode I;16


def _animated_gif(image: Image.Image, mask: Image.Image, path: str) -> None:
    del mask
    first = image.convert("P", palette=Image.Palette.ADAPTIVE, colors=128)
    second = image.transpose(Image.Transpose.FLIP_TOP_BOTTOM).convert(
        "P", palette=Image.Palette.ADAPTIVE, colors=128)
    first.save(path, format="GIF", save_all=True, append_images=[second], duration=200, loop=0)


# variant name -> (file extension, writer(image, mask, path), Pillow mode of the file)
Writer = Callable[[Image.Image, Image.Image, str], None]
VARIANTS: Dict[str, Tuple[str, Writer]] = {
    "jpeg_rgb": (".jpg", lambda im, m, p: _save(im, p, "JPEG", quality=90)),
    "jpeg_exif_rotated": (".jpg", _exif_rotated_jpeg),
    "png_rgb": (".png", lambda im, m, p: _save(im, p, "PNG")),
    "webp_rgb": (".webp", lambda im, m, p: _save(im, p, "WEBP", quality=90)),
    "png_rgba": (".png", _rgba_png),
    "jpeg_grayscale": (".jpeg", lambda im, m, p: _save(im.convert("L"), p, "JPEG", quality=90)),
    "bmp_rgb": (".bmp", lambda im, m, p: _save(im, p, "BMP")),
    "gif_animated": (".gif", _animated_gif),
    "tiff_rgb": (".tif", lambda im, m, p: _save(im, p, "TIFF", compression="tiff_lzw")),
    "png_palette": (".png", lambda im, m, p: _save(
        im.convert("P", palette=Image.Palette.ADAPTIVE, colors=64), p, "PNG")),
    "jpeg_cmyk": (".jpg", lambda im, m, p: _save(im.convert("CMYK"), p, "JPEG", quality=90)),
    "png_16bit": (".png", lambda im, m, p: _save(_sixteen_bit(im), p, "PNG")),
    "tiff_cmyk": (".tiff", lambda im, m, p: _save(im.convert("CMYK"), p, "TIFF")),
    "tiff_16bit": (".tif", lambda im, m, p: _save(_sixteen_bit(im), p, "TIFF")),
    "jpeg_upper_ext": (".JPG", lambda im, m, p: _save(im, p, "JPEG", quality=90)),
    "jpeg_named_png": (".png", lambda im, m, p: _save(im, p, "JPEG", quality=90)),
    "webp_rgba": (".webp", lambda im, m, p: _save(
        Image.merge("RGBA", (*im.split(), m.point(lambda v: 255 if v else 60))), p, "WEBP",
        lossless=True)),
    "png_grayscale": (".png", lambda im, m, p: _save(im.convert("L"), p, "PNG")),
}


def encode(image: Image.Image, variant: str, mask: Optional[Image.Image] = None) -> bytes:
    """Encodes ``image`` as the named variant (see ``VARIANTS``) and returns the bytes."""
    import tempfile  # pylint: disable=g-import-not-at-top
    extension, writer = VARIANTS[variant]
    mask = mask if mask is not None else Image.new("L", image.size, 255)
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "image" + extension)
        writer(image, mask, path)
        with open(path, "rb") as f:
            return f.read()


# ---------------------------------------------------------------- bad files


def decompression_bomb_png(width: int = 30000, height: int = 30000) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` pixels."""
    buffer = io.BytesIO()
    Image.new("L", (8, 8), 128).save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    ihdr = 8  # signature, then length (4) + "IHDR" (4) + data (13) + crc (4)
    data[ihdr + 8:ihdr + 16] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[ihdr + 4:ihdr + 21])) & 0xFFFFFFFF
    data[ihdr + 21:ihdr + 25] = struct.pack(">I", crc)
    return bytes(data)


def _make_unreadable(path: str, payload: bytes) -> str:
    """A file that cannot be read: no permissions, or (as root, who ignores
    permissions) a link to ``/proc/self/mem``, whose first page gives EIO.

    Returns:
      The reason ingestion must give: ``unreadable``, or for the link, which
      leads outside the folder, ``outside_folder`` (ingestion does not follow it).
    """
    if os.geteuid() != 0:
        with open(path, "wb") as f:
            f.write(payload)
        os.chmod(path, 0)
        return photo_folder.UNREADABLE
    os.symlink("/proc/self/mem", path)
    return photo_folder.OUTSIDE_FOLDER


@dataclasses.dataclass
class MessyFolder:
    """A generated folder and what ingestion must make of it.

    Attributes:
      root: the folder.
      class_names: the classes (sub-folders), sorted.
      expected_photos: relative path -> class, for every file to ingest.
      expected_skipped: relative (printable) path -> reason, for every entry to skip.
      variants: relative path -> encoding variant of each good photo.
      class_map: the class map to use (None: one class per sub-folder).
    """

    root: str
    class_names: Tuple[str, ...]
    expected_photos: Dict[str, str]
    expected_skipped: Dict[str, str]
    variants: Dict[str, str]
    class_map: Optional[Tuple[Tuple[str, Tuple[str, ...]], ...]] = None

    @property
    def seen(self) -> int:
        return len(self.expected_photos) + len(self.expected_skipped)


class _Writer:
    """Writes files under a root and records what ingestion must make of them."""

    def __init__(self, root: str, rng: np.random.Generator, sizes: Tuple[int, int]):
        self.root, self.rng, self.sizes = root, rng, sizes
        self.photos: Dict[str, str] = {}
        self.skipped: Dict[str, str] = {}
        self.variants: Dict[str, str] = {}

    def path(self, relative: str) -> str:
        full = os.path.join(self.root, relative)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        return full

    def draw(self, class_index: int) -> Tuple[Image.Image, Image.Image]:
        width = int(self.rng.integers(self.sizes[0], self.sizes[1] + 1))
        height = int(width * self.rng.choice([0.75, 0.75, 1.0, 1.33, 0.56]))
        return draw_object(class_index, self.rng, width, height)

    def photo(self, relative_stem: str, class_index: int, class_name: Optional[str],
              variant: str) -> str:
        extension, writer = VARIANTS[variant]
        relative = relative_stem + extension
        image, mask = self.draw(class_index)
        writer(image, mask, self.path(relative))
        if class_name is not None:
            self.photos[relative] = class_name
            self.variants[relative] = variant
        return relative

    def raw(self, relative: str, data: bytes, reason: Optional[str]) -> None:
        with open(self.path(relative), "wb") as f:
            f.write(data)
        if reason:
            self.skipped[relative] = reason

    def jpeg(self, class_index: int) -> bytes:
        image, _ = self.draw(class_index)
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=90)
        return buffer.getvalue()


def write_photo_folder(root: str, class_names: Sequence[str] = DEFAULT_CLASSES,
                       per_class: int = 10, seed: int = 0,
                       sizes: Tuple[int, int] = (120, 200),
                       variants: Optional[Sequence[str]] = None) -> MessyFolder:
    """Writes a clean folder: ``per_class`` good photos per class, formats cycling.

    Args:
      root: the folder to create.
      class_names: the class sub-folders.
      per_class: photos per class.
      seed: random seed.
      sizes: (smallest, largest) photo width in pixels.
      variants: the encodings to cycle through; default all of ``VARIANTS``.
    """
    rng = np.random.default_rng(seed)
    writer = _Writer(root, rng, sizes)
    names = list(variants or VARIANTS)
    os.makedirs(root, exist_ok=True)
    for class_index, class_name in enumerate(class_names):
        os.makedirs(os.path.join(root, class_name), exist_ok=True)
        for i in range(per_class):
            variant = names[(i + class_index * 5) % len(names)]
            subfolder = "2024-holiday/" if i % 7 == 3 else ""  # photos may be nested
            writer.photo(f"{class_name}/{subfolder}IMG_{i + 1:04d}", class_index, class_name,
                         variant)
    return MessyFolder(root, tuple(sorted(class_names)), writer.photos, writer.skipped,
                       writer.variants)


def write_messy_folder(root: str, class_names: Sequence[str] = DEFAULT_CLASSES,
                       per_class: int = 10, seed: int = 0,
                       sizes: Tuple[int, int] = (120, 200),
                       left_out_folder: Optional[str] = None) -> MessyFolder:
    """Writes good photos in every format and colour mode plus every kind of bad file.

    Args:
      root: the folder to create.
      class_names: the class sub-folders (at least 3).
      per_class: good photos per class.
      seed: random seed.
      sizes: (smallest, largest) photo width in pixels.
      left_out_folder: also write this folder with a few photos, and return a
        class map that leaves it out.

    Returns:
      The folder and the exact outcome ingestion must report for each path.
    """
    if len(class_names) < 3:
        raise ValueError("a messy folder needs at least 3 classes")
    folder = write_photo_folder(root, class_names, per_class, seed, sizes)
    writer = _Writer(root, np.random.default_rng(seed + 1), sizes)
    writer.photos, writer.variants = folder.expected_photos, folder.variants
    a, b, c = class_names[:3]
    _write_bad_files(writer, a, b, c)
    class_map = None
    if left_out_folder:
        for i in range(3):
            relative = writer.photo(f"{left_out_folder}/IMG_{i + 1:04d}", 0, None, "jpeg_rgb")
            writer.skipped[relative] = photo_folder.LEFT_OUT
        class_map = tuple((name, (name,)) for name in sorted(class_names))
    return MessyFolder(root, tuple(sorted(class_names)), writer.photos, writer.skipped,
                       writer.variants, class_map)


def _write_bad_files(w: _Writer, a: str, b: str, c: str) -> None:
    """Every kind of bad entry, spread over the class folders a, b and c."""
    reasons = photo_folder
    # Duplicates: a copy within class a (the copy is skipped, the original kept);
    # one picture under classes a and b (every copy skipped).
    original = sorted(p for p in w.photos if p.startswith(f"{a}/IMG_"))[0]
    with open(os.path.join(w.root, original), "rb") as f:
        w.raw(f"{a}/copy of {os.path.basename(original)}", f.read(), reasons.DUPLICATE)
    shared = w.jpeg(0)
    w.raw(f"{a}/shared-photo.jpg", shared, reasons.CONFLICTING_DUPLICATE)
    w.raw(f"{b}/from-the-web.jpg", shared, reasons.CONFLICTING_DUPLICATE)
    # Content problems.
    w.raw(f"{b}/empty.jpg", b"", images.EMPTY)
    w.raw(f"{c}/truncated.jpg", w.jpeg(2)[:1500], images.TRUNCATED)
    png = encode(w.draw(0)[0], "png_rgb")
    w.raw(f"{a}/cut-off.png", png[:len(png) // 2], images.TRUNCATED)
    w.raw(f"{a}/notes.jpg", b"<html><body>Product page</body></html>\n", images.NOT_AN_IMAGE)
    w.raw(f"{b}/shopping list.txt", b"pencils, pens, markers\n", images.NOT_AN_IMAGE)
    w.raw(f"{c}/IMG_5000.HEIC", b"\x00\x00\x00\x18ftypheic" + bytes(64),
          images.UNSUPPORTED_FORMAT)
    icon = io.BytesIO()
    w.draw(1)[0].save(icon, format="ICO", sizes=[(32, 32)])
    w.raw(f"{b}/favicon.ico", icon.getvalue(), images.UNSUPPORTED_FORMAT)
    w.raw(f"{c}/panorama.png", decompression_bomb_png(), images.DECOMPRESSION_BOMB)
    # File-system problems.
    w.skipped[f"{a}/locked.jpg"] = _make_unreadable(w.path(f"{a}/locked.jpg"), w.jpeg(0))
    os.symlink("moved-away.jpg", w.path(f"{b}/dangling.jpg"))
    w.skipped[f"{b}/dangling.jpg"] = reasons.BROKEN_SYMLINK
    os.symlink("loop.jpg", w.path(f"{c}/loop.jpg"))
    w.skipped[f"{c}/loop.jpg"] = reasons.SYMLINK_LOOP
    os.symlink("..", w.path(f"{a}/parent"))  # a folder link back up: a loop
    w.skipped[f"{a}/parent/"] = reasons.SYMLINK_LOOP
    os.mkfifo(w.path(f"{b}/pipe.jpg"))
    w.skipped[f"{b}/pipe.jpg"] = reasons.NOT_A_FILE
    # Hidden and system files, and a hidden folder (one entry, not searched).
    for relative, data in ((".DS_Store", b"\x00\x00\x00\x01Bud1"), (f"{a}/.DS_Store", b"Bud1"),
                           (f"{b}/Thumbs.db", b"\xd0\xcf\x11\xe0"),
                           (f"{c}/._IMG_0001.jpg", b"\x00\x05\x16\x07"),
                           (f"{a}/desktop.ini", b"[.ShellClassInfo]\n")):
        w.raw(relative, data, reasons.HIDDEN)
    w.raw(f"{b}/.thumbnails/IMG_0001.jpg", w.jpeg(1), None)
    w.skipped[f"{b}/.thumbnails/"] = reasons.HIDDEN
    # A name that is not UTF-8 (Latin-1 "café"), with a good photo inside.
    with open(os.path.join(os.fsencode(w.root), os.fsencode(c), b"caf\xe9.jpg"), "wb") as f:
        f.write(w.jpeg(2))
    w.skipped[f"{c}/caf\\xe9.jpg"] = reasons.INVALID_NAME
    # Files outside any class folder.
    w.raw("README.txt", b"My photos of pencils, pens and markers.\n",
          reasons.OUTSIDE_CLASS_FOLDER)
    w.raw("IMG_9999.jpg", w.jpeg(0), reasons.OUTSIDE_CLASS_FOLDER)


def remove(root: str) -> None:
    """Deletes a generated folder, including files without permissions."""
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                try:
                    os.chmod(path, 0o644)
                except OSError:
                    pass
    shutil.rmtree(root, ignore_errors=True)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``python -m imagepipe.testing.photo_fixtures OUT_DIR``: writes a messy photo folder."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir")
    parser.add_argument("--per-class", type=int, default=100, help="good photos per class")
    parser.add_argument("--classes", default=",".join(DEFAULT_CLASSES),
                        help="comma-separated class names (at least 3)")
    parser.add_argument("--min-width", type=int, default=320)
    parser.add_argument("--max-width", type=int, default=1024)
    parser.add_argument("--clean", action="store_true", help="no bad files")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if os.path.exists(args.out_dir):
        print(f"error: {args.out_dir} exists; choose a new folder", file=sys.stderr)
        return 2
    classes = [name.strip() for name in args.classes.split(",") if name.strip()]
    write = write_photo_folder if args.clean else write_messy_folder
    folder = write(args.out_dir, classes, args.per_class, args.seed,
                   (args.min_width, args.max_width))
    print(f"wrote {args.out_dir}: {len(folder.expected_photos)} good photos in "
          f"{len(classes)} classes, {len(folder.expected_skipped)} entries to skip")
    return 0


if __name__ == "__main__":
    sys.exit(main())
