"""A large image is re-encoded off the event loop, a few at a time: readers and the inbox keep getting answers
meanwhile (issue 16, defect 4). Asserted by order and overlap, never by a wall-clock threshold."""

from __future__ import annotations

import asyncio
import io
import sys
import threading

import pytest
from PIL import Image, ImageDraw
from support.api import bearer, make_token, media_form

from bridge.convert.images import process_image
from bridge.publishing.uploads import IMAGE_WORKERS


@pytest.fixture
async def token(sessions):
    return await make_token(sessions)


@pytest.fixture(scope="module")
def large_png() -> bytes:
    """A plan-like PNG (about a second of optimising work), well under the test's byte and pixel limits."""
    image = Image.new("RGB", (1800, 1800), (250, 250, 245))
    draw = ImageDraw.Draw(image)
    for i in range(0, 1800, 5):
        draw.line((0, i, 1800, 1800 - i), fill=(i % 255, 80, 160))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def reencoding_threads() -> int:
    """How many threads other than this one (the event loop's) are inside `process_image` right now."""
    count = 0
    for ident, frame in sys._current_frames().items():
        if ident == threading.get_ident():
            continue
        while frame is not None and frame.f_code is not process_image.__code__:
            frame = frame.f_back
        count += frame is not None
    return count


async def until_reencoding(uploads: list[asyncio.Task]) -> int:
    """Waits (on the loop) until an upload is being re-encoded elsewhere, or every upload is done; the most
    re-encodings seen at once. With Pillow on the loop this loop never runs while an image is re-encoded."""
    seen = 0
    while not seen and not all(u.done() for u in uploads):
        await asyncio.sleep(0.005)
        seen = reencoding_threads()
    return seen


async def test_public_pages_and_nodeinfo_answer_while_a_large_image_is_reencoded(client, token, large_png):
    upload = asyncio.create_task(client.post("/api/v2/media", data=media_form("Plan der Innenstadt", large_png),
                                             headers=bearer(token)))
    assert await until_reencoding([upload]) == 1, "the image was re-encoded on the event loop"
    profile = await client.get("/@stadt")
    nodeinfo = await client.get("/nodeinfo/2.1")
    assert profile.status == 200 and nodeinfo.status == 200
    assert not upload.done()  # both answered while the upload was still being worked on
    response = await upload
    assert response.status == 200, await response.text()
    assert (await response.json())["meta"]["original"]["width"] == 1800


async def test_no_more_images_are_reencoded_at_once_than_the_bound(client, token, large_png):
    uploads = [asyncio.create_task(client.post("/api/v2/media", data=media_form(f"Plan {i}", large_png),
                                               headers=bearer(token))) for i in range(IMAGE_WORKERS + 2)]
    most = await until_reencoding(uploads)
    while not all(u.done() for u in uploads):
        most = max(most, reencoding_threads())
        await asyncio.sleep(0.005)
    assert 1 <= most <= IMAGE_WORKERS
    assert [(await u).status for u in uploads] == [200] * len(uploads)
