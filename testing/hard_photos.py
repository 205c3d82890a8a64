"""Photos that broke the first normalization, rendered from Fashion-MNIST images.

Each failure mode seen on real shop and phone photos has a renderer here
(numpy and Pillow, apart from the training-time rendering in
``components/photo_render.py``, so that neither benchmark nor tests measure the
training distribution):

- ``half_border``: the garment runs off the frame and makes up half the border;
- ``light_on_light``: a light garment on a slightly lighter background;
- ``dark_on_dark``: a dark garment on a dark floor;
- ``glare``: a wooden floor with a glare spot brighter than anything else;
- ``folds``: a bed sheet with folds and edges across the whole photo;
- ``shoe_pair``: two shoes photographed from above, side by side (shoes only);
- ``hanger``: a top or a bottom on a hanger against a wall (not shoes);
- ``worn``: a garment on a person: a head above a top, legs and feet below a
  bottom, an ankle and a trouser hem above a shoe.

``render(image, mode, rng)`` returns the photo as uint8 RGB; ``write_benchmark``
writes a labelled folder of JPEGs cycling through the modes.
"""

from __future__ import annotations

import io
import os
from typing import Callable, Dict, Optional, Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

MODES = ("half_border", "light_on_light", "dark_on_dark", "glare", "folds", "shoe_pair",
         "hanger", "worn")
# A pair of shoes from above only fits shoes; a hanger never holds them.
SHOE_MODES = tuple(mode for mode in MODES if mode != "hanger")
GARMENT_MODES = tuple(mode for mode in MODES if mode != "shoe_pair")


def _alpha(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """A uint8 [28, 28] image resized to [height, width] as float coverage in [0, 1]."""
    resized = Image.fromarray(image).resize((width, height), Image.BICUBIC)
    return np.asarray(resized, np.float64)[..., None] / 255.0


def _compose(background: np.ndarray, alpha: np.ndarray, colour: np.ndarray, top: int,
             left: int) -> np.ndarray:
    """``background`` with the object (``alpha`` of ``colour``) at (top, left), clipped to it."""
    picture = background.copy()
    height, width = picture.shape[:2]
    rows = slice(max(top, 0), min(top + alpha.shape[0], height))
    cols = slice(max(left, 0), min(left + alpha.shape[1], width))
    cut = alpha[rows.start - top:rows.stop - top, cols.start - left:cols.stop - left]
    region = picture[rows, cols]
    picture[rows, cols] = region * (1.0 - cut) + colour * cut
    return picture


def _flat(rng, height: int, width: int, level, noise: float = 0.01) -> np.ndarray:
    base = np.broadcast_to(np.asarray(level, np.float64), (height, width, 3))
    return np.clip(base + rng.normal(0.0, noise, (height, width, 3)), 0.0, 1.0)


def _centred(rng, image, background, colour, fraction=(0.5, 0.8)) -> np.ndarray:
    height, width = background.shape[:2]
    side = int(min(height, width) * rng.uniform(*fraction))
    top = int(rng.integers(0, height - side + 1))
    left = int(rng.integers(0, width - side + 1))
    return _compose(background, _alpha(image, side, side), colour, top, left)


def _half_border(image, rng, height, width) -> np.ndarray:
    # Taller and wider than the frame, pushed down: the border is half garment.
    side = int(max(height, width) * rng.uniform(1.05, 1.25))
    top = int(height * rng.uniform(0.25, 0.4))
    left = (width - side) // 2 + int(rng.integers(-width // 10, width // 10 + 1))
    background = _flat(rng, height, width, rng.uniform(0.8, 0.97, 3))
    return _compose(background, _alpha(image, side, side), rng.uniform(0.05, 0.45, 3), top,
                    left)


def _light_on_light(image, rng, height, width) -> np.ndarray:
    level = rng.uniform(0.86, 0.97)
    background = _flat(rng, height, width, level + rng.uniform(-0.02, 0.02, 3))
    garment = level - rng.uniform(0.08, 0.16) + rng.uniform(-0.02, 0.02, 3)
    return _centred(rng, image, background, garment)


def _dark_on_dark(image, rng, height, width) -> np.ndarray:
    level = rng.uniform(0.15, 0.3)
    background = _flat(rng, height, width, level + rng.uniform(-0.02, 0.02, 3), noise=0.015)
    garment = level + rng.choice([-1.0, 1.0]) * rng.uniform(0.1, 0.14)
    return _centred(rng, image, background, np.full(3, garment))


def _wood(rng, height: int, width: int) -> np.ndarray:
    """Planks of a wooden floor: brown, with grain along the planks."""
    base = np.array([0.55, 0.38, 0.22]) * rng.uniform(0.8, 1.15)
    ys = np.arange(height)[:, None]
    xs = np.arange(width)[None, :]
    plank = max(6, height // int(rng.integers(3, 7)))
    grain = 0.05 * np.sin(xs / rng.uniform(3.0, 8.0) + 3.0 * np.sin(ys / 11.0)) \
        + 0.04 * ((ys // plank) % 2)
    seams = (ys % plank == 0) * -0.15
    return np.clip(base + (grain + seams)[..., None] + rng.normal(0, 0.01, (height, width, 3)),
                   0.0, 1.0)


def _glare(image, rng, height, width) -> np.ndarray:
    picture = _centred(rng, image, _wood(rng, height, width), rng.uniform(0.05, 0.3, 3))
    spot = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(spot)
    radius = max(2, int(min(height, width) * rng.uniform(0.05, 0.09)))
    cy = int(rng.uniform(0.1, 0.9) * height)
    cx = int(rng.choice([rng.uniform(0.05, 0.2), rng.uniform(0.8, 0.95)]) * width)
    draw.ellipse([cx - 2 * radius, cy - radius, cx + 2 * radius, cy + radius], fill=255)
    spot = np.asarray(spot.filter(ImageFilter.GaussianBlur(radius / 2)), np.float64) / 255.0
    return np.clip(picture + spot[..., None], 0.0, 1.0)


def _sheet(rng, height: int, width: int) -> np.ndarray:
    """A light bed sheet with shaded folds and a sheet edge crossing the photo."""
    sheet = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(sheet)
    for _ in range(int(rng.integers(4, 8))):
        points = [(int(rng.uniform(-0.1, 1.1) * width), int(rng.uniform(-0.1, 1.1) * height))
                  for _ in range(3)]
        draw.line(points, fill=int(rng.integers(120, 255)),
                  width=max(1, int(min(height, width) * rng.uniform(0.01, 0.03))))
    folds = np.asarray(sheet.filter(ImageFilter.GaussianBlur(1.5)), np.float64) / 255.0
    level = rng.uniform(0.8, 0.95, 3)
    edge = (np.arange(width)[None, :] > width * rng.uniform(0.85, 0.95)) * 0.25
    shading = folds * rng.uniform(0.15, 0.3) + edge
    return np.clip(level - shading[..., None] + rng.normal(0, 0.01, (height, width, 3)), 0, 1)


def _folds(image, rng, height, width) -> np.ndarray:
    return _centred(rng, image, _sheet(rng, height, width), rng.uniform(0.05, 0.35, 3))


def _shoe_pair(image, rng, height, width) -> np.ndarray:
    # From above a shoe is an upright blob: the side view turned a quarter; two, side by side.
    shoe = np.rot90(image, k=int(rng.choice([1, 3])))
    background = _flat(rng, height, width, rng.uniform(0.75, 0.95, 3))
    colour = rng.uniform(0.05, 0.4, 3)
    side = int(min(height, width) * rng.uniform(0.45, 0.65))
    gap = int(side * rng.uniform(0.05, 0.25))
    top = int(rng.integers(0, height - side + 1))
    left = max(0, (width - 2 * side - gap) // 2)
    picture = _compose(background, _alpha(np.ascontiguousarray(shoe), side, side), colour,
                       top, left - side // 4)
    mirrored = np.ascontiguousarray(shoe[:, ::-1])
    return _compose(picture, _alpha(mirrored, side, side), colour, top,
                    left + side - side // 4 + gap)


def _lit_box(alpha: np.ndarray):
    """(top, bottom, top row's (left, right), bottom row's (left, right)) of coverage > 0.3."""
    lit = alpha[..., 0] > 0.3
    rows = np.flatnonzero(lit.any(axis=1))
    if rows.size == 0:
        middle = alpha.shape[1] // 2
        return 0, alpha.shape[0], (middle, middle), (middle, middle)
    top, bottom = int(rows[0]), int(rows[-1])
    first, last = np.flatnonzero(lit[top]), np.flatnonzero(lit[bottom])
    return top, bottom, (int(first[0]), int(first[-1])), (int(last[0]), int(last[-1]))


def _holder_mask(height: int, width: int, draw_on: Callable) -> np.ndarray:
    mask = Image.new("L", (width, height), 0)
    draw_on(ImageDraw.Draw(mask))
    return np.asarray(mask.filter(ImageFilter.GaussianBlur(0.7)), np.float64)[..., None] / 255.0


def _hanger(image, rng, height, width) -> np.ndarray:
    side = int(min(height, width) * rng.uniform(0.5, 0.7))
    top = int(height * rng.uniform(0.25, 0.32))
    left = (width - side) // 2 + int(rng.integers(-width // 12, width // 12 + 1))
    alpha = _alpha(image, side, side)
    first, _, (shoulder_left, shoulder_right), _ = _lit_box(alpha)
    y, x0, x1 = top + first + 2, left + shoulder_left, left + shoulder_right
    centre, apex = (x0 + x1) / 2, top + first - (x1 - x0) * rng.uniform(0.2, 0.35)
    line = max(1, int(min(height, width) * 0.015))
    hook = max(3, int((x1 - x0) * 0.08))

    def draw_hanger(draw):
        draw.line([(x0, y), (centre, apex), (x1, y), (x0, y)], fill=255, width=line)
        draw.line([(centre, apex), (centre, apex - hook)], fill=255, width=line)
        draw.arc([centre - hook, apex - 3 * hook, centre + hook, apex - hook], 150, 360,
                 fill=255, width=line)

    wall = _flat(rng, height, width, rng.uniform(0.78, 0.96, 3))
    colours = ([0.5, 0.33, 0.18], [0.08, 0.08, 0.08], [0.97, 0.97, 0.97], [0.6, 0.6, 0.62])
    picture = _compose(wall, _holder_mask(height, width, draw_hanger),
                       np.asarray(colours[int(rng.integers(len(colours)))]), 0, 0)
    return _compose(picture, alpha, rng.uniform(0.05, 0.5, 3), top, left)


_SKIN_TONES = ([0.92, 0.76, 0.65], [0.78, 0.58, 0.44], [0.55, 0.38, 0.27], [0.36, 0.24, 0.17])


def _worn(image, rng, height, width, name) -> np.ndarray:
    side = int(min(height, width) * rng.uniform(0.5, 0.65))
    below = name == "lower"
    top = int(height * (rng.uniform(0.05, 0.12) if below else rng.uniform(0.32, 0.4)))
    left = (width - side) // 2 + int(rng.integers(-width // 12, width // 12 + 1))
    alpha = _alpha(image, side, side)
    first, last, (collar_left, collar_right), (hem_left, hem_right) = _lit_box(alpha)
    collar = collar_right - collar_left

    def draw_top(draw):  # a neck and an oval head above the collar
        centre, chin = left + (collar_left + collar_right) / 2, top + first - 0.2 * collar
        draw.rectangle([centre - 0.09 * collar, chin, centre + 0.09 * collar, top + first + 3],
                       fill=255)
        draw.ellipse([centre - 0.15 * collar, chin - 0.42 * collar, centre + 0.15 * collar,
                      chin + 0.02 * collar], fill=255)

    def draw_bottom(draw):  # legs from the hems, feet at the frame's bottom
        hems, foot_y = hem_right - hem_left, height - 0.06 * height
        for x in (left + hem_left + 0.2 * hems, left + hem_right - 0.2 * hems):
            draw.rectangle([x - 0.08 * hems, top + last - 2, x + 0.08 * hems, foot_y], fill=255)
            draw.ellipse([x - 0.12 * hems, foot_y - 0.06 * hems, x + 0.12 * hems,
                          foot_y + 0.06 * hems], fill=255)

    def draw_shoe(draw):  # an ankle rising from the opening
        centre, ankle = left + (collar_left + collar_right) / 2, min(0.22 * collar, 0.06 * side)
        draw.rectangle([centre - ankle, 0, centre + ankle, top + first + 3], fill=255)

    draw_on = {"upper": draw_top, "lower": draw_bottom}.get(name, draw_shoe)
    background = _flat(rng, height, width, rng.uniform(0.75, 0.95, 3))
    skin = np.asarray(_SKIN_TONES[int(rng.integers(len(_SKIN_TONES)))])
    picture = _compose(background, _holder_mask(height, width, draw_on), skin, 0, 0)
    if name == "shoes":  # a trouser hem over the upper part of the ankle
        hem = np.zeros((height, width, 1))
        hem[:max(1, top + first - side // 6), max(0, left + collar_left - side // 8):
            left + collar_right + side // 8] = 1.0
        picture = _compose(picture, hem, rng.uniform(0.05, 0.4, 3), 0, 0)
    return _compose(picture, alpha, rng.uniform(0.05, 0.5, 3), top, left)


RENDERERS: Dict[str, Callable] = {
    "half_border": _half_border, "light_on_light": _light_on_light,
    "dark_on_dark": _dark_on_dark, "glare": _glare, "folds": _folds, "shoe_pair": _shoe_pair,
    "hanger": _hanger, "worn": _worn,
}


def render(image: np.ndarray, mode: str, rng: np.random.Generator,
           class_name: Optional[str] = None) -> np.ndarray:
    """Renders a uint8 [28, 28] Fashion-MNIST image as a uint8 RGB photo of failure ``mode``.

    ``worn`` needs the image's super-class (``upper``, ``lower`` or ``shoes``):
    what wears it depends on it.
    """
    if mode not in RENDERERS:
        raise ValueError(f"unknown hard-photo mode {mode!r}: choose one of {', '.join(MODES)}")
    if mode == "worn" and class_name not in ("upper", "lower", "shoes"):
        raise ValueError(f"mode 'worn' needs class_name upper, lower or shoes, not {class_name!r}")
    width = int(rng.integers(96, 240))
    height = int(width * rng.uniform(0.8, 1.3))
    extra = (class_name,) if mode == "worn" else ()
    picture = RENDERERS[mode](image, rng, height, width, *extra)
    return (np.clip(picture, 0.0, 1.0) * 255).astype(np.uint8)


def _jpeg(picture: np.ndarray, quality: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def write_benchmark(directory: str, images: np.ndarray, labels: Sequence[int],
                    class_names: Sequence[str], ids: Sequence[str],
                    seed: int = 2002) -> Dict[str, int]:
    """Writes every image as ``<directory>/<class>/<id>-<mode>.jpg``, cycling through the modes.

    Shoes cycle through SHOE_MODES, the other classes through GARMENT_MODES.

    Returns:
      Photos written per mode.
    """
    rng = np.random.default_rng(seed)
    counts: Dict[str, int] = {}
    for index, (image, label, image_id) in enumerate(zip(images, labels, ids)):
        name = class_names[int(label)]
        modes = SHOE_MODES if name == "shoes" else GARMENT_MODES
        mode = modes[index % len(modes)]
        folder = os.path.join(directory, name)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"{image_id}-{mode}.jpg"), "wb") as f:
            f.write(_jpeg(render(image, mode, rng, name), int(rng.integers(60, 92))))
        counts[mode] = counts.get(mode, 0) + 1
    return counts
