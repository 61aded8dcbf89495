"""The emulator's stand-in for a diffusion model: a deterministic synthetic painter.

A picture is a pure function of the sampling parameters, so the same task gives the same
bytes and any changed parameter gives a different picture, in a way a person can see:
- the prompt picks the palette (colour words such as "purple" are honoured), the negative
  prompt and the checkpoint shift it;
- the seed, the batch index, the sampler and the scheduler pick the composition;
- more steps give a crisper picture, a higher cfg a more saturated one;
- the size is the latent's size.
Only Pillow and ``random.Random`` are used (no global random state, no timestamps).
"""

from __future__ import annotations

import colorsys
import hashlib
import random
from dataclasses import dataclass

from PIL import Image, ImageChops, ImageDraw, ImageEnhance, ImageFilter

_COLOUR_HUES = {
    "red": 0.0,
    "orange": 0.07,
    "gold": 0.12,
    "yellow": 0.15,
    "green": 0.33,
    "teal": 0.47,
    "cyan": 0.5,
    "blue": 0.62,
    "galaxy": 0.7,
    "purple": 0.78,
    "violet": 0.8,
    "magenta": 0.86,
    "pink": 0.93,
}
_PALETTE_SIZE = 5
_SHAPES = 14
_CLOUD_TILE = 12


@dataclass(frozen=True)
class Recipe:
    """Everything a KSampler run depends on, except the size and the batch index."""

    seed: int
    positive: str
    negative: str
    steps: int
    cfg: float
    sampler: str
    scheduler: str
    checkpoint: str


def _rng(*parts: object) -> random.Random:
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).digest()
    return random.Random(int.from_bytes(digest, "big"))


def palette(recipe: Recipe) -> list[tuple[int, int, int]]:
    """Colours for a prompt: the hues it names first, then hues drawn from its hash."""
    words = recipe.positive.lower().replace(",", " ").split()
    avoided = set(recipe.negative.lower().replace(",", " ").split())
    hues = [_COLOUR_HUES[w] for w in words if w in _COLOUR_HUES and w not in avoided]
    rng = _rng("palette", recipe.positive, recipe.negative, recipe.checkpoint)
    while len(hues) < _PALETTE_SIZE:
        hues.append(rng.random())
    colours = []
    for hue in hues[:_PALETTE_SIZE]:
        shifted = (hue + rng.uniform(-0.03, 0.03)) % 1.0
        red, green, blue = colorsys.hsv_to_rgb(
            shifted, rng.uniform(0.45, 0.9), rng.uniform(0.55, 1)
        )
        colours.append((round(red * 255), round(green * 255), round(blue * 255)))
    return colours


def render(recipe: Recipe, size: tuple[int, int], index: int) -> Image.Image:
    """The picture number ``index`` of a batch sampled with ``recipe`` at ``size``."""
    colours = palette(recipe)
    rng = _rng("layout", recipe.seed, index, recipe.sampler, recipe.scheduler)
    image = _background(rng, colours, size)
    _draw_shapes(image, rng, colours)
    image = _add_clouds(image, rng)
    # Few steps look unfinished (soft), many steps look crisp, as with a real sampler.
    image = image.filter(ImageFilter.GaussianBlur(8.0 / recipe.steps))
    return ImageEnhance.Color(image).enhance(_saturation(recipe.cfg))


def _background(
    rng: random.Random, colours: list[tuple[int, int, int]], size: tuple[int, int]
) -> Image.Image:
    grid = Image.new("RGB", (3, 3))
    grid.putdata([rng.choice(colours) for _ in range(9)])
    return grid.resize(size, Image.Resampling.BICUBIC)


def _draw_shapes(
    image: Image.Image, rng: random.Random, colours: list[tuple[int, int, int]]
) -> None:
    width, height = image.size
    draw = ImageDraw.Draw(image, "RGBA")
    for _ in range(_SHAPES):
        x, y = rng.random() * width, rng.random() * height
        radius = rng.uniform(0.05, 0.3) * min(width, height)
        fill = (*rng.choice(colours), rng.randint(90, 200))
        kind = rng.randrange(3)
        if kind == 0:
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=fill)
        elif kind == 1:
            draw.rectangle((x - radius, y - radius * 0.6, x + radius, y + radius * 0.6), fill=fill)
        else:
            draw.regular_polygon((x, y, radius), rng.randint(3, 6), rng.uniform(0, 360), fill=fill)


def _add_clouds(image: Image.Image, rng: random.Random) -> Image.Image:
    # Seeded noise on a coarse grid, smoothly enlarged: soft cloudy light over the shapes.
    tile = Image.frombytes("L", (_CLOUD_TILE, _CLOUD_TILE), rng.randbytes(_CLOUD_TILE**2))
    clouds = tile.resize(image.size, Image.Resampling.BICUBIC).convert("RGB")
    return Image.blend(image, ImageChops.overlay(image, clouds), 0.35)


def _saturation(cfg: float) -> float:
    return min(2.5, 0.4 + cfg / 10.0)


def neutral(size: tuple[int, int]) -> Image.Image:
    """What decoding an empty (never sampled) latent shows: a flat grey."""
    return Image.new("RGB", size, (124, 118, 110))
