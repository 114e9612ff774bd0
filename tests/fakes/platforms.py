"""Shared pieces of the platform tests: a resolver that sends real platform host names to local test
servers, a guarded client using it, a clock, test images, and a web page with OpenGraph tags."""

from __future__ import annotations

import io
import socket
from datetime import datetime, timedelta, timezone
from pathlib import Path

from aiohttp import web
from PIL import Image

from activitypub.guard import GuardPolicy, open_guarded_session
from bridge.config.model import PlatformConfig, Secret
from bridge.platforms.connectors.base import AccountState, ImageView, VideoView, PostView


class MapResolver:
    """host name -> (address, port) of a local test server; wrapped by the guard's resolver."""

    def __init__(self, mapping: dict[str, tuple[str, int]] | None = None) -> None:
        self.mapping = dict(mapping or {})

    async def resolve(self, host, port=0, family=0):
        if host not in self.mapping:
            raise OSError(f"no such test host {host}")
        address, real_port = self.mapping[host]
        return [{"hostname": host, "host": address, "port": real_port, "family": socket.AF_INET, "proto": 0,
                 "flags": socket.AI_NUMERICHOST}]

    async def close(self):
        pass


# Client timeout of the connector tests: short, so that the "no answer came" tests stay quick, yet well above
# the slowest answer a fake gives on a loaded two-core CI machine (0.3 s and 0.75 s were not: CI saw a refresh
# answer take longer once each; about twenty tests wait this long, so 2 s costs under a minute per run).
QUICK_TIMEOUT = 2.0


def guarded(resolver: MapResolver, total_timeout: float = 3.0):
    policy = GuardPolicy(allow_private=False, allow_http=True, public_overrides=("127.0.0.0/8",),
                         total_timeout=total_timeout, connect_timeout=1.0)
    return open_guarded_session(policy, resolver=resolver)


class Clock:
    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs) -> None:
        self.now += timedelta(**kwargs)


def platform(kind: str, api_base: str, **credentials) -> PlatformConfig:
    creds = {k: Secret(v) if isinstance(v, str) else v for k, v in credentials.items()}
    return PlatformConfig(f"{kind}-test", kind, api_base, f"{kind} operator", "US", "SCC", creds)


def png_bytes(size=(640, 480), color=(200, 30, 30), mode="RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, "PNG")
    return out.getvalue()


def noisy_jpeg(size=(3000, 2000)) -> bytes:
    """A photo-like image that compresses badly, so re-encoding under a limit has real work to do."""
    image = Image.effect_noise(size, 90).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95)
    return out.getvalue()


def image_view(tmp_path: Path, name="photo.png", data: bytes | None = None, alt="Rathaus im Regen") -> ImageView:
    path = tmp_path / name
    path.write_bytes(data if data is not None else png_bytes())
    image = Image.open(path)
    return ImageView(str(path), "image/png", alt, image.width, image.height)


def video_view(tmp_path: Path, seconds: float = 2, description="Die Bürgermeisterin spricht",
               captions: bytes | None = None) -> VideoView:
    """A real H.264/AAC MP4 (made by ffmpeg) with a JPEG poster and WebVTT captions, as the server stores them."""
    from tests.support.videos import CAPTIONS, mp4_clip

    data = mp4_clip(tmp_path, seconds)
    video, poster, vtt = tmp_path / "video.mp4", tmp_path / "video-poster.jpg", tmp_path / "video.vtt"
    video.write_bytes(data)
    Image.new("RGB", (320, 240), (20, 80, 160)).save(poster, "JPEG")
    vtt.write_bytes(captions if captions is not None else CAPTIONS)
    return VideoView(str(video), "video/mp4", description, 320, 240, int(seconds * 1000), len(data), str(poster),
                     str(vtt))


def poster_image(video: VideoView) -> ImageView:
    """The video's poster frame as the connectors get it among the images."""
    return ImageView(video.poster_path, "image/jpeg", video.description, video.width, video.height, poster=True)


def view(text: str, *, images=(), spoiler="", post_id: int = (1795305355000 << 16) | 7, language="de",
         poll=None, videos=()) -> PostView:
    """A post as a connector sees it; a video's poster frame is among the images, as `post_view` puts it."""
    stills = tuple(images) + tuple(poster_image(v) for v in videos)
    return PostView(post_id, text, spoiler, language, f"https://stadt.example/@stadt/{post_id}", stills,
                    datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc), poll, tuple(videos))


def state() -> AccountState:
    return AccountState()


PAGE = """<!doctype html><html><head><title>Baustelle Hauptstraße</title>
<meta property="og:title" content="Baustelle Hauptstraße &amp; Umleitung">
<meta property="og:description" content="Ab Montag ist die Hauptstraße gesperrt.">
<meta property="og:image" content="/card.png"></head><body>…</body></html>"""


def site_app() -> web.Application:
    """The city's website as the link-card fetcher sees it."""
    app = web.Application()

    async def page(request):
        return web.Response(text=PAGE, content_type="text/html")

    async def card(request):
        return web.Response(body=noisy_jpeg((1600, 900)), content_type="image/jpeg")

    app.router.add_get("/baustelle", page)
    app.router.add_get("/card.png", card)
    return app
