"""Image uploads: limits give clear reasons, and re-encoding strips every bit of metadata."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from bridge.config.model import LimitsConfig
from bridge.convert.images import MediaReason, process_image

LIMITS = LimitsConfig(max_characters=500, max_images=4, max_image_bytes=200_000, max_image_pixels=1_000_000)


def jpeg_with_gps(size=(64, 48), orientation: int | None = None) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "SpyCam Inc."  # Make
    gps = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)}
    exif[0x8825] = gps  # GPSInfo
    if orientation:
        exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_exif_and_gps_never_survive_reencoding():
    raw = jpeg_with_gps()
    assert Image.open(io.BytesIO(raw)).getexif().get(0x8825) is not None  # the fixture really has GPS
    result = process_image(raw, LIMITS)
    assert result.ok and result.mime_type == "image/jpeg" and (result.width, result.height) == (64, 48)
    cleaned = Image.open(io.BytesIO(result.data))
    assert dict(cleaned.getexif()) == {} and "exif" not in cleaned.info
    assert b"SpyCam" not in result.data


def test_orientation_is_applied_before_the_exif_is_dropped():
    result = process_image(jpeg_with_gps((64, 48), orientation=6), LIMITS)  # 6 = rotate 90° clockwise
    assert (result.width, result.height) == (48, 64)


def test_png_keeps_transparency_and_gif_becomes_a_still_png():
    out = io.BytesIO()
    Image.new("RGBA", (10, 10), (0, 0, 0, 0)).save(out, "PNG")
    png = process_image(out.getvalue(), LIMITS)
    assert png.ok and Image.open(io.BytesIO(png.data)).mode == "RGBA"
    out = io.BytesIO()
    Image.new("P", (10, 10)).save(out, "GIF")
    gif = process_image(out.getvalue(), LIMITS)
    assert gif.ok and gif.mime_type == "image/png" and gif.extension == "png"


@pytest.mark.parametrize("raw, limits, reason", [
    (b"", LIMITS, MediaReason.EMPTY),
    (b"not an image at all", LIMITS, MediaReason.BROKEN_IMAGE),
    (b"%PDF-1.4 ...", LIMITS, MediaReason.BROKEN_IMAGE),
    (jpeg_with_gps()[:200], LIMITS, MediaReason.BROKEN_IMAGE),
    (jpeg_with_gps(), LimitsConfig(500, 4, 100, 1_000_000), MediaReason.TOO_LARGE),
    (jpeg_with_gps((2000, 1000)), LimitsConfig(500, 4, 10_000_000, 1_000_000), MediaReason.TOO_MANY_PIXELS),
])
def test_bad_uploads_have_a_reason(raw, limits, reason):
    result = process_image(raw, limits)
    assert result.reason is reason and not result.ok and result.description


def test_unsupported_formats_are_named():
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, "BMP")
    assert process_image(out.getvalue(), LIMITS).reason is MediaReason.UNSUPPORTED_TYPE
