"""Writing posts in the web form: images without metadata, problems that keep what was typed, schedules."""

from __future__ import annotations

import io
import random
import re
from datetime import datetime, timedelta, timezone

from PIL import ExifTags, Image
from sqlalchemy import select, update

from bridge.appkeys import CONFIG, SESSIONS
from bridge.auth.users import find_user
from bridge.publishing.profiles import retire_account
from bridge.runtime.media_storage import MEDIA, media_key, media_storage
from bridge.store.models import Job, Media, Post
from bridge.handlers import standard_worker
from bridge.queue.context import WorkerContext
from bridge.web.filters import format_when
from support.web import (add_image, client_for, compose_form, count_posts, editor, image_bytes,  # noqa: F401
                         make_user, post_id_from, signed_in, visitors)


def jpeg_with_gps() -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Stadtkamera"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (52.0, 31.0, 12.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (13.0, 24.0, 1.0)
    raw = image_bytes("JPEG", exif=exif.tobytes())
    assert Image.open(io.BytesIO(raw)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the test image has GPS
    return raw


async def media_rows(sessions) -> list[Media]:
    async with sessions() as session:
        return list((await session.scalars(select(Media))).all())


async def test_a_post_with_an_image_is_published_and_the_stored_image_has_no_exif(visitors, sessions, config):
    browser = await editor(visitors, sessions, "erika")
    form = add_image(compose_form("Neue Bänke im #Stadtpark"), 0, jpeg_with_gps(), alt="Zwei Holzbänke",
                     filename="IMG_0001.jpg", content_type="image/jpeg")
    page = await browser.post("/editor/compose", form)
    post_id = post_id_from(page)
    page = await browser.get(f"/editor/posts/{post_id}")
    assert page.status == 200 and page.has("Published") and page.has("Neue Bänke im")
    [media] = await media_rows(sessions)
    assert f'src="/media/{media.filename}" alt="Zwei Holzbänke"' in page.text
    stored = Image.open(media_storage(config).local_path(media_key(media.filename)))
    assert "exif" not in stored.info
    assert not stored.getexif() and not stored.getexif().get_ifd(ExifTags.IFD.GPSInfo)


async def test_missing_alt_text_sends_the_form_back_with_everything_kept(visitors, sessions):
    browser = await editor(visitors, sessions, "erika")
    later = (datetime.now(timezone.utc) + timedelta(days=3)).strftime("%Y-%m-%dT10:30")
    form = add_image(compose_form("Sperrung der Hauptstraße <ab> Montag", spoiler_text="Verkehr",
                                  publish_at=later), 0, image_bytes(), alt="")
    page = await browser.post("/editor/compose", form)
    assert page.status == 422
    assert page.has("Image 1 needs alt text that describes it, or mark it as decorative.")
    assert '<textarea id="text" name="text"' in page.text
    assert ">Sperrung der Hauptstraße &lt;ab&gt; Montag</textarea>" in page.text
    assert 'value="Verkehr"' in page.text and f'value="{later}"' in page.text
    [media] = await media_rows(sessions)
    assert f'name="media0" value="{media.id}"' in page.text  # kept, no second upload needed
    assert f'src="/media/{media.filename}"' in page.text
    assert await count_posts(sessions) == 0
    form = compose_form("Sperrung der Hauptstraße <ab> Montag", spoiler_text="Verkehr", publish_at=later,
                        media0=str(media.id), alt0="Absperrgitter auf der Hauptstraße")
    post_id = post_id_from(await browser.post("/editor/compose", form))
    async with sessions() as session:
        post = await session.get(Post, post_id)
        assert [m.alt for m in post.media] == ["Absperrgitter auf der Hauptstraße"]
    assert len(await media_rows(sessions)) == 1


async def test_a_decorative_image_needs_no_alt_text(visitors, sessions):
    browser = await editor(visitors, sessions, "erika")
    form = add_image(compose_form("Schmuckbild"), 0, image_bytes())
    form.add_field("decorative0", "1")
    post_id = post_id_from(await browser.post("/editor/compose", form))
    page = await browser.get(f"/editor/posts/{post_id}")
    assert page.has("Decorative image") and 'alt=""' in page.text


async def test_an_oversize_image_is_refused_and_the_text_is_kept(visitors, aiohttp_client, make_config, booted):
    client = await client_for(aiohttp_client, make_config(limits={"max_image_bytes": 2000}))
    sessions = client.app[SESSIONS]
    user_id, _ = await make_user(sessions, "erika")
    browser = await signed_in(visitors(client), sessions, user_id)
    noisy = Image.frombytes("RGB", (60, 60), random.Random(7).randbytes(60 * 60 * 3))  # incompressible
    out = io.BytesIO()
    noisy.save(out, "PNG")
    assert len(out.getvalue()) > 2000
    page = await browser.post("/editor/compose", add_image(compose_form("Großes Bild"), 0, out.getvalue(), "Alt"))
    assert page.status == 422
    assert page.has("Image 1 is larger than the limit of 1.95 KB.")
    assert ">Großes Bild</textarea>" in page.text and ">Alt</textarea>" in page.text
    assert await media_rows(sessions) == [] and await count_posts(sessions) == 0


async def test_an_image_beyond_the_whole_body_limit_costs_the_image_not_the_text(visitors, aiohttp_client,
                                                                                  make_config, booted):
    """aiohttp refuses such a body as a whole (413, an error page, the text gone); the editor's form is read
    part by part instead, the image dropped after the limit, and the form comes back as typed."""
    client = await client_for(aiohttp_client, make_config(limits={"max_image_bytes": 200_000, "max_images": 1}))
    sessions = client.app[SESSIONS]
    user_id, _ = await make_user(sessions, "erika")
    browser = await signed_in(visitors(client), sessions, user_id)
    photo = random.Random(3).randbytes(2_500_000)  # the body is twice what aiohttp would accept at all
    assert len(photo) > 200_000 + 1024 * 1024  # aiohttp's limit: the images plus 1 MB of form fields
    form = add_image(compose_form("Sperrung der Brücke ab Montag", spoiler_text="Verkehr"), 0, photo,
                     "Die Brücke", filename="IMG_4032.jpg", content_type="image/jpeg")
    page = await browser.post("/editor/compose", form)
    assert page.status == 422
    assert page.has("Image 1 is larger than the limit of 195 KB.")
    assert ">Sperrung der Brücke ab Montag</textarea>" in page.text and ">Die Brücke</textarea>" in page.text
    assert 'value="Verkehr"' in page.text
    assert await media_rows(sessions) == [] and await count_posts(sessions) == 0
    huge = add_image(compose_form("Noch größer"), 0, random.Random(4).randbytes(4_000_000), "x")
    assert (await browser.post("/editor/compose", huge)).status == 413  # beyond ten times the images: refused
    stranger = visitors(client)
    refused = await stranger.post("/editor/compose", add_image(compose_form("x"), 0, photo, "x"), csrf=False)
    assert refused.status == 413  # people who are not signed in get aiohttp's whole-body limit
    assert await count_posts(sessions) == 0


async def test_a_broken_multipart_body_is_a_clear_400_and_stores_nothing(visitors, sessions):
    browser = await editor(visitors, sessions, "erika")
    bogus_charset = (b'--xyz\r\nContent-Disposition: form-data; name="text"\r\n'
                     b'Content-Type: text/plain; charset=no-such-charset\r\n\r\nx\r\n--xyz--\r\n')
    for body in (b"no boundary at all", b"--xyz\r\nContent-Disposition: form-data\r\n\r\nx\r\n--xyz--\r\n",
                 bogus_charset):
        async with browser.session.post(browser.url("/editor/compose"), data=body,
                                         headers={"Content-Type": "multipart/form-data; boundary=xyz"}) as response:
            assert response.status == 400, body
            assert "The form could not be read." in await response.text()
    assert await count_posts(sessions) == 0
    stranger = visitors()
    async with stranger.session.post(stranger.url("/signin"), data=b"name=x&password=%FF",
                                     headers={"Content-Type": "application/x-www-form-urlencoded; charset=bogus"}
                                     ) as response:
        assert response.status == 400 and "The form could not be read." in await response.text()


async def test_an_image_with_too_many_pixels_is_refused(visitors, aiohttp_client, make_config, booted):
    client = await client_for(aiohttp_client, make_config(limits={"max_image_pixels": 1000}))
    sessions = client.app[SESSIONS]
    user_id, _ = await make_user(sessions, "erika")
    browser = await signed_in(visitors(client), sessions, user_id)
    page = await browser.post("/editor/compose", add_image(compose_form("Pixel"), 0, image_bytes(size=(40, 30)), "A"))
    assert page.status == 422 and page.has("Image 1 has more than 1 000 pixels.")


async def test_a_file_that_is_no_image_is_refused(visitors, sessions):
    browser = await editor(visitors, sessions, "erika")
    form = add_image(compose_form("Anhang"), 0, b"%PDF-1.4 not an image", alt="Ein PDF", filename="plan.pdf",
                     content_type="application/pdf")
    page = await browser.post("/editor/compose", form)
    assert page.status == 422
    assert page.has("Image 1 could not be read as an image. Only JPEG, PNG, WebP and GIF images are accepted.")
    assert 'aria-invalid="true" aria-describedby="image0-problem"' in page.text


async def test_a_text_over_the_limit_is_refused_and_kept(visitors, sessions):
    browser = await editor(visitors, sessions, "erika")
    text = "a" * 501
    page = await browser.post("/editor/compose", compose_form(text))
    assert page.status == 422
    assert page.has("The text has 501 characters; at most 500 are allowed.")
    assert page.has("Currently 501 characters.")
    assert f">{text}</textarea>" in page.text


async def test_a_schedule_in_the_past_is_refused(visitors, sessions):
    browser = await editor(visitors, sessions, "erika")
    page = await browser.post("/editor/compose", compose_form("Gestern", publish_at="2020-01-01T10:00"))
    assert page.status == 422 and page.has("Publish at: the time must be in the future.")
    assert 'value="2020-01-01T10:00"' in page.text
    page = await browser.post("/editor/compose", compose_form("Kaputt", publish_at="morgen früh"))
    assert page.status == 422 and page.has("Publish at: enter a date and a time.")
    assert await count_posts(sessions) == 0


async def test_an_editor_cannot_post_as_an_account_not_theirs(visitors, sessions, config):
    browser = await editor(visitors, sessions, "erika", actors=("stadt",))
    page = await browser.get("/editor/compose")
    assert 'value="stadt"' in page.text and 'value="feuerwehr"' not in page.text
    form = add_image(compose_form("Fremd", actor="feuerwehr"), 0, image_bytes(), alt="Bild")
    page = await browser.post("/editor/compose", form)
    assert page.status == 403 and page.has("You may not post as this account.")
    assert await count_posts(sessions) == 0 and await media_rows(sessions) == []
    assert not list((config.instance.data_dir / MEDIA).glob("*"))


async def test_a_scheduled_post_waits_and_the_worker_publishes_it(visitors, sessions, config):
    browser = await editor(visitors, sessions, "erika")
    local = (datetime.now(config.tz) + timedelta(hours=2)).replace(second=0, microsecond=0)
    page = await browser.post("/editor/compose", compose_form("Später", publish_at=local.strftime("%Y-%m-%dT%H:%M")))
    post_id = post_id_from(page)
    page = await browser.get(f"/editor/posts/{post_id}")
    assert page.has("Scheduled") and page.has(f"Scheduled for {format_when(local, config.tz, 'en')}")
    async with sessions() as session:
        post = await session.get(Post, post_id)
        assert post.scheduled_at == local.astimezone(timezone.utc)
    worker = standard_worker(WorkerContext(config, sessions))
    assert await worker.run_until_idle() == 0  # not yet due
    async with sessions.begin() as session:
        await session.execute(update(Job).where(Job.post_id == post_id)
                              .values(run_at=datetime.now(timezone.utc) - timedelta(seconds=1)))
    assert await worker.run_until_idle() >= 1  # the publish job, then its federation fan-out
    page = await browser.get(f"/editor/posts/{post_id}")
    assert re.search(r'id="post-state">\s*Published', page.text)


async def test_mirror_platforms_can_be_chosen(visitors, aiohttp_client, make_config, booted):
    platform = {"id": "bsky", "kind": "bluesky", "api_base": "https://bsky.test", "recipient": "Bluesky PBC",
                "country": "US", "transfer_mechanism": "SCC"}
    client = await client_for(aiohttp_client, make_config(platforms=[platform]))
    sessions = client.app[SESSIONS]
    user_id, _ = await make_user(sessions, "erika")
    browser = await signed_in(visitors(client), sessions, user_id)
    page = await browser.get("/editor/compose")
    assert 'name="mirror" value="bsky"' in page.text and page.has("Also publish on")
    post_id = post_id_from(await browser.post("/editor/compose", compose_form("Gespiegelt", mirror="bsky")))
    async with sessions() as session:
        assert (await session.get(Post, post_id)).mirrors == ["bsky"]


async def test_the_form_shows_the_limits(visitors, sessions):
    browser = await editor(visitors, sessions, "erika")
    page = await browser.get("/editor/compose")
    assert page.has("At most 500 characters, content warning included.")
    assert page.has("Images (up to 4)")
    assert page.text.count('type="file"') == 4
    assert '<input type="hidden" name="csrf" value="' in page.text


async def test_a_retired_account_is_not_offered_for_a_new_post(visitors, sessions, client):
    browser = await editor(visitors, sessions, "erika", actors=("stadt", "feuerwehr"))
    page = await browser.get("/editor/compose?actor=feuerwehr")
    assert '<option value="feuerwehr" selected' in page.text  # offered while it is active
    async with sessions.begin() as session:
        admin = await find_user(session, "admin")
        assert (await retire_account(session, client.app[CONFIG], "feuerwehr", None, admin)).ok
    page = await browser.get("/editor/compose?actor=feuerwehr")
    assert page.status == 200 and 'value="feuerwehr"' not in page.text
    assert '<option value="stadt" selected' in page.text  # the first account still taking posts
    page = await browser.post("/editor/compose", compose_form("Noch ein Einsatz", actor="feuerwehr"))
    assert page.status == 422 and page.has("this account is retired and takes no more posts")
