"""Re-encoding images to a platform's limits: at most `max_side` pixels on the long side and `max_bytes`
bytes, in a format the platform takes. Stored images are already EXIF-free; re-encoding keeps it so."""

from __future__ import annotations

import asyncio
import importlib
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

QUALITIES = (88, 80, 72, 64, 56, 48)
MAX_SOURCE_PIXELS = 80_000_000


@dataclass(frozen=True)
class Fitted:
    data: bytes
    mime_type: str
    width: int
    height: int


def fit_image(raw: bytes, max_bytes: int, max_side: int | None = None,
              formats: tuple[str, ...] = ("image/jpeg", "image/png")) -> Fitted | None:
    """The image within the limits, or None when it cannot be read or made small enough."""
    # At the first image, not at start: a process that never sends one does not carry Pillow.
    Image, ImageOps = importlib.import_module("PIL.Image"), importlib.import_module("PIL.ImageOps")
    try:
        image = Image.open(io.BytesIO(raw))
        if image.width * image.height > MAX_SOURCE_PIXELS:
            return None
        image = ImageOps.exif_transpose(image)
        image.load()
    except (Image.UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
    if max_side and max(image.size) > max_side:
        image.thumbnail((max_side, max_side))
    has_alpha = image.mode in ("RGBA", "LA", "P")
    if has_alpha and "image/png" in formats:
        data = _png(image)
        if len(data) <= max_bytes:
            return Fitted(data, "image/png", image.width, image.height)
    return _jpeg_within(image, max_bytes) if "image/jpeg" in formats else None


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.convert("RGBA").save(out, "PNG", optimize=True)
    return out.getvalue()


def _jpeg_within(image: Image.Image, max_bytes: int) -> Fitted | None:
    """Lower the quality first, then the size, until the file fits."""
    rgb = _flatten(image)
    for _ in range(6):
        for quality in QUALITIES:
            out = io.BytesIO()
            rgb.save(out, "JPEG", quality=quality, optimize=True)
            if out.tell() <= max_bytes:
                return Fitted(out.getvalue(), "image/jpeg", rgb.width, rgb.height)
        if min(rgb.size) < 64:
            return None
        rgb = rgb.resize((max(1, int(rgb.width * 0.75)), max(1, int(rgb.height * 0.75))))
    return None


def _flatten(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA", "P"):
        rgba = image.convert("RGBA")
        background = importlib.import_module("PIL.Image").new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.split()[-1])
        return background
    return image.convert("RGB")


def read_file(path: str) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def _read_and_fit(path: str, max_bytes: int, max_side: int | None, formats: tuple[str, ...]) -> Fitted | None:
    raw = read_file(path)
    return fit_image(raw, max_bytes, max_side, formats) if raw else None


async def fitted_file(path: str | None, max_bytes: int, max_side: int | None = None,
                      formats: tuple[str, ...] = ("image/jpeg", "image/png")) -> Fitted | None:
    """The image file within the limits (None: unreadable or not small enough), read and re-encoded in a
    thread: Pillow holds the loop for a tenth of a second on a large photo, and the loop serves readers."""
    if not path:
        return None
    return await asyncio.to_thread(_read_and_fit, path, max_bytes, max_side, formats)
