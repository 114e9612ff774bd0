"""A connector re-encodes a large photo for its platform off the event loop, which also answers readers: seen by
the loop itself, which runs while another thread is inside Pillow's work (order, never a wall-clock limit)."""

from __future__ import annotations

import asyncio
import sys
import threading

import pytest
from PIL import Image, ImageDraw

from bridge.platforms.connectors.base import ImageView, Outcome
from bridge.platforms.connectors.facebook import FacebookConnector
from bridge.platforms.connectors.images import fit_image
from fakes.meta import FakeFacebook
from fakes.platforms import QUICK_TIMEOUT, Clock, MapResolver, guarded, platform, state, view


@pytest.fixture(scope="module")
def large_photo(tmp_path_factory) -> ImageView:
    """A plan-like PNG larger than Facebook's 2,048 px side: it must be scaled and re-encoded."""
    image = Image.new("RGB", (2600, 2600), (250, 250, 245))
    draw = ImageDraw.Draw(image)
    for i in range(0, 2600, 5):
        draw.line((0, i, 2600, 2600 - i), fill=(i % 255, 80, 160))
    path = tmp_path_factory.mktemp("photo") / "plan.png"
    image.save(path, "PNG")
    return ImageView(str(path), "image/png", "Plan der Innenstadt", 2600, 2600)


def fitting_elsewhere() -> bool:
    """Whether a thread other than the loop's is inside `fit_image` right now."""
    for ident, frame in sys._current_frames().items():
        if ident == threading.get_ident():
            continue
        while frame is not None and frame.f_code is not fit_image.__code__:
            frame = frame.f_back
        if frame is not None:
            return True
    return False


async def test_facebook_fits_a_large_photo_while_the_loop_keeps_running(aiohttp_server, large_photo):
    fake = FakeFacebook()
    server = await aiohttp_server(fake.app())
    http = guarded(MapResolver({"graph.facebook.com": ("127.0.0.1", server.port)}), total_timeout=QUICK_TIMEOUT)
    try:
        connector = FacebookConnector(platform("facebook", "http://graph.facebook.com/v25.0", page_id="112233",
                                               access_token="page-token"), http, state(), Clock())
        publishing = asyncio.create_task(connector.publish(connector.render(view("Plan", images=[large_photo])),
                                                           "h"))
        seen = False
        while not seen and not publishing.done():
            await asyncio.sleep(0.002)
            seen = fitting_elsewhere()
        result = await publishing
    finally:
        await http.close()
    assert seen, "the photo was re-encoded on the event loop"
    assert result.outcome is Outcome.SENT, result.description
    [photo] = fake.photos.values()
    assert photo["alt"] == "Plan der Innenstadt" and 0 < photo["size"] <= 4_000_000
