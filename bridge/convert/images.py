"""Image uploads: checked against the configured limits and re-encoded with Pillow.

Re-encoding (rather than copying bytes) is what guarantees that EXIF, GPS and other metadata never leave
the server: only pixels survive.
"""

from __future__ import annotations

import enum
import importlib
import io
import warnings
from dataclasses import dataclass

from typing import TYPE_CHECKING

from bridge.config.model import LimitsConfig

if TYPE_CHECKING:
    from PIL import Image

FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp"),
           "GIF": ("image/png", "png")}  # a GIF becomes a still PNG of its first frame
ACCEPTED_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif")
MAX_ALT = 1500  # Mastodon's limit for media descriptions


class MediaReason(enum.StrEnum):
    OK = "ok"
    TOO_LARGE = "too_large"
    TOO_MANY_PIXELS = "too_many_pixels"
    UNSUPPORTED_TYPE = "unsupported_type"
    BROKEN_IMAGE = "broken_image"
    EMPTY = "empty"


MEDIA_TEXT = {
    MediaReason.OK: "image accepted",
    MediaReason.TOO_LARGE: "the image file is larger than allowed",
    MediaReason.TOO_MANY_PIXELS: "the image has more pixels than allowed",
    MediaReason.UNSUPPORTED_TYPE: "only JPEG, PNG, WebP and GIF images are accepted",
    MediaReason.BROKEN_IMAGE: "the file could not be read as an image",
    MediaReason.EMPTY: "the file is empty",
}


@dataclass(frozen=True)
class ProcessedImage:
    reason: MediaReason
    data: bytes = b""
    mime_type: str = ""
    extension: str = ""
    width: int = 0
    height: int = 0

    @property
    def ok(self) -> bool:
        return self.reason is MediaReason.OK

    @property
    def description(self) -> str:
        return MEDIA_TEXT[self.reason]


def process_image(raw: bytes, limits: LimitsConfig) -> ProcessedImage:
    if not raw:
        return ProcessedImage(MediaReason.EMPTY)
    if len(raw) > limits.max_image_bytes:
        return ProcessedImage(MediaReason.TOO_LARGE)
    # Pillow is imported at the first image, not at start: a process that never sees one does not carry it.
    Image = importlib.import_module("PIL.Image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(raw))  # reads the header only
            if image.format not in FORMATS:
                return ProcessedImage(MediaReason.UNSUPPORTED_TYPE)
            if image.width * image.height > limits.max_image_pixels:
                return ProcessedImage(MediaReason.TOO_MANY_PIXELS)
            return _reencode(image)
    except (Image.UnidentifiedImageError, Image.DecompressionBombWarning, Image.DecompressionBombError):
        return ProcessedImage(MediaReason.BROKEN_IMAGE)
    except (OSError, ValueError, SyntaxError):
        return ProcessedImage(MediaReason.BROKEN_IMAGE)


def _reencode(image: Image.Image) -> ProcessedImage:
    ImageOps = importlib.import_module("PIL.ImageOps")
    mime, ext = FORMATS[image.format]
    source_format = image.format
    image.seek(0)
    image = ImageOps.exif_transpose(image)  # keep the orientation the camera meant, then drop EXIF
    out = io.BytesIO()
    if source_format == "JPEG":
        image.convert("RGB").save(out, "JPEG", quality=88, optimize=True)
    elif source_format == "WEBP":
        image.save(out, "WEBP", quality=88)
    else:
        mode = "RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB"
        image.convert(mode).save(out, "PNG", optimize=True)
    return ProcessedImage(MediaReason.OK, out.getvalue(), mime, ext, image.width, image.height)
