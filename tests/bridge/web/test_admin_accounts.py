"""/admin/accounts: departments' accounts created, changed and retired in the browser, answering at once in
every process; followers' servers told by Update and Move; pictures checked without stalling the server."""

from __future__ import annotations

import asyncio
import io
import sys
import threading

import aiohttp
import pytest
from PIL import Image, ImageDraw
from sqlalchemy import select

from bridge.app import create_app
from bridge.appkeys import CONFIG, SESSIONS
from bridge.auth.users import find_user
from bridge.convert.images import process_image
from bridge.publishing import posts
from bridge.publishing.drafts import PostReason
from bridge.publishing.posts import Draft
from bridge.store.models import Actor, Job, UserActor
from consent.audit import AuditEntry
from fakes.fediverse import mastodon_follow
from support.api import bomb_png
from support.inbox import CITY, instances, network, run_jobs, stadt  # noqa: F401
from support.web import Visitor, admin_ready, make_user, signed_in

AP = {"Accept": "application/activity+json"}


OPENED: list[Visitor] = []


async def admin_of(client) -> Visitor:
    return await signed_in(opened(client), client.app[SESSIONS], await admin_ready(client.app[SESSIONS]))


def opened(client) -> Visitor:
    OPENED.append(Visitor(client))
    return OPENED[-1]


@pytest.fixture(autouse=True)
async def close_visitors():
    yield
    while OPENED:
        await OPENED.pop().close()


def profile(**values) -> dict:
    fields = {"name": "theater", "display_name": "Stadttheater", "summary": "Spielplan und Karten.",
              "field0_name": "Website", "field0_value": "https://theater.example", "field1_name": "Kasse",
              "field1_value": "Mo–Fr 10–18 Uhr", "quote_policy": "followers", "language": "de",
              "indexable": "on"}
    fields.update(values)
    return fields


def png(size=(60, 40), color="blue") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def with_files(fields: dict, **files: tuple[str, bytes]) -> aiohttp.FormData:
    data = aiohttp.FormData(list(fields.items()))
    for name, (filename, raw) in files.items():
        data.add_field(name, raw, filename=filename, content_type="application/octet-stream")
    return data


@pytest.fixture
async def other_process(aiohttp_client, make_config, stadt):
    """A second process on the same database: its own app and its own configuration object."""
    return await aiohttp_client(create_app(make_config(), run_worker=False))


async def test_a_new_account_answers_webfinger_actor_profile_and_feeds_in_every_process_at_once(
        stadt, other_process):
    for client in (stadt, other_process):  # both processes have seen the accounts as they were
        finger = await client.get("/.well-known/webfinger", params={"resource": "acct:theater@stadt.test"})
        assert finger.status == 404
    boss = await admin_of(stadt)
    erika, _ = await make_user(stadt.app[SESSIONS], "erika", actors=())
    await boss.get("/admin/accounts")
    page = await boss.post("/admin/accounts", profile(editors=str(erika)))
    assert page.status == 303 and page.location == "/admin/accounts/theater?done=created"
    assert (await boss.get(page.location)).has("The account was created.")

    for client in (other_process, stadt):
        finger = await client.get("/.well-known/webfinger", params={"resource": "acct:theater@stadt.test"})
        assert finger.status == 200
        actor = await (await client.get("/users/theater", headers=AP)).json()
        assert actor["name"] == "Stadttheater" and actor["publicKey"]["publicKeyPem"].startswith("-----BEGIN")
        assert [f["name"] for f in actor["attachment"]] == ["Website", "Kasse"]
        assert "rel=\"me" in actor["attachment"][0]["value"] and actor["attachment"][1]["value"] == "Mo–Fr 10–18 Uhr"
        html = await (await client.get("/@theater")).text()
        assert "Stadttheater" in html and "Spielplan und Karten." in html
        assert (await client.get("/@theater.rss")).status == 200
    async with stadt.app[SESSIONS]() as session:
        actor_id = await session.scalar(select(Actor.id).where(Actor.name == "theater"))
        assert (await session.scalars(select(UserActor.user_id).where(UserActor.actor_id == actor_id))).all() == [erika]
        entries = (await session.scalars(select(AuditEntry).where(AuditEntry.subject_ref == "actor:theater"))).all()
        assert {e.action for e in entries} >= {"actor.created", "key.created"}
    listing = await boss.get("/admin/accounts")
    assert listing.has("Stadttheater") and listing.has("@theater@stadt.test")


async def test_bad_input_comes_back_as_typed_with_each_problem_next_to_its_field(stadt):
    boss = await admin_of(stadt)
    await boss.get("/admin/accounts")
    page = await boss.post("/admin/accounts", profile(name="Theater Haus", display_name="", field2_value="Nur Inhalt",
                                                      field3_name="Lang", field3_value="x" * 300))
    assert page.status == 422
    assert 'id="name-problem"' in page.text and 'id="display_name-problem"' in page.text
    assert 'id="field2-problem"' in page.text and 'id="field3-problem"' in page.text
    assert 'value="theater haus"' in page.text and 'value="Nur Inhalt"' in page.text
    assert "Spielplan und Karten." in page.text
    page = await boss.post("/admin/accounts", profile(name="stadt"))
    assert page.status == 422 and page.has("an account with this name exists already")
    page = await boss.post("/admin/accounts", profile(name="instance.actor"))
    assert page.status == 422 and 'id="name-problem"' in page.text


async def test_pictures_that_are_no_image_too_large_or_a_bomb_are_refused_next_to_their_field(stadt):
    boss = await admin_of(stadt)
    await boss.get("/admin/accounts")
    limit = stadt.app[CONFIG].limits.max_image_bytes
    cases = [("avatar", "brief.pdf", b"%PDF-1.4 not an image", "the file could not be read as an image"),
             ("header", "riesig.png", b"\x89PNG" + b"\0" * limit, "the image file is larger than allowed"),
             ("avatar", "bombe.png", bomb_png(9000, 9000), "the image has more pixels than allowed"),
             ("avatar", "bombe.png", bomb_png(), "the file could not be read as an image")]  # Pillow's own check
    for field, filename, raw, message in cases:
        page = await boss.post("/admin/accounts", with_files(profile(), **{field: (filename, raw)}))
        assert page.status == 422 and page.has(message) and f'id="{field}-problem"' in page.text
        assert 'value="Stadttheater"' in page.text
    assert (await stadt.get("/users/theater", headers=AP)).status == 404  # nothing was created
    page = await boss.post("/admin/accounts", with_files(profile(), avatar=("wappen.png", png((1200, 800))),
                                                         header=("buehne.png", png((3000, 1000), "red"))))
    assert page.status == 303
    actor = await (await stadt.get("/users/theater", headers=AP)).json()
    avatar, header = actor["icon"]["url"], actor["image"]["url"]
    assert avatar.startswith("http://stadt.test/avatars/theater.png?v=") and "/headers/theater.png?v=" in header
    picture = await stadt.get(avatar.removeprefix("http://stadt.test"))
    assert picture.status == 200 and Image.open(io.BytesIO(await picture.read())).size == (400, 267)
    banner = await stadt.get(header.removeprefix("http://stadt.test"))
    assert Image.open(io.BytesIO(await banner.read())).size == (1500, 500)


async def test_editing_the_profile_sends_an_update_to_followers_servers(stadt, instances):
    mastodon = await instances("mastodon.test")
    follower = mastodon.add_actor("alice")
    assert (await mastodon.sign_and_post(stadt, mastodon_follow(follower, CITY), follower))[0] == 202
    await run_jobs(stadt)
    mastodon.received.clear()
    boss = await admin_of(stadt)
    page = await boss.get("/admin/accounts/stadt")
    assert page.status == 200 and 'value="Stadt Teststadt"' in page.text
    page = await boss.post("/admin/accounts/stadt", profile(name="", display_name="Stadt Teststadt (Presse)"))
    assert page.status == 303 and page.location == "/admin/accounts/stadt?done=saved"
    await run_jobs(stadt)
    updates = [r.json for r in mastodon.received if r.json["type"] == "Update"]
    assert len(updates) == 1 and updates[0]["object"]["name"] == "Stadt Teststadt (Presse)"
    async with stadt.app[SESSIONS]() as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "actor.updated"))
        assert entry.subject_ref == "actor:stadt"


async def test_a_retired_account_keeps_its_archive_moves_its_followers_and_its_name_stays_taken(stadt, instances):
    mastodon = await instances("mastodon.test")
    follower = mastodon.add_actor("alice")
    feuerwehr_uri = "http://stadt.test/users/feuerwehr"
    assert (await mastodon.sign_and_post(stadt, mastodon_follow(follower, feuerwehr_uri), follower))[0] == 202
    await run_jobs(stadt)
    mastodon.received.clear()
    boss = await admin_of(stadt)
    await boss.get("/admin/accounts/feuerwehr")
    page = await boss.post("/admin/accounts/feuerwehr/retire", {"moved_to": "feuerwehr"})
    assert page.status == 409 and 'id="moved_to-problem"' in page.text
    page = await boss.post("/admin/accounts/feuerwehr/retire", {"moved_to": "stadt"})
    assert page.status == 303
    await run_jobs(stadt)
    kinds = [r.json["type"] for r in mastodon.received]
    assert kinds == ["Update", "Move"]
    move = mastodon.received[1].json
    assert (move["object"], move["target"]) == (feuerwehr_uri, CITY)
    old = await (await stadt.get("/users/feuerwehr", headers=AP)).json()
    new = await (await stadt.get("/users/stadt", headers=AP)).json()
    assert old["movedTo"] == CITY and new["alsoKnownAs"] == [feuerwehr_uri]
    assert (await stadt.get("/.well-known/webfinger", params={"resource": "acct:feuerwehr@stadt.test"})).status == 200
    assert (await stadt.get("/@feuerwehr.atom")).status == 200
    html = await (await stadt.get("/@feuerwehr")).text()
    assert 'id="retired"' in html and 'href="/@stadt"' in html
    async with stadt.app[SESSIONS].begin() as session:
        editor = await find_user(session, "admin")
        result = await posts.create_post(session, stadt.app[CONFIG], editor, Draft("feuerwehr", "Noch da?"))
        assert result.reason is PostReason.ACCOUNT_RETIRED
    page = await boss.post("/admin/accounts", profile(name="feuerwehr"))
    assert page.status == 422 and page.has("this name belonged to a retired account and cannot be used again")
    async with stadt.app[SESSIONS]() as session:
        kinds = set((await session.scalars(select(AuditEntry.action).where(
            AuditEntry.subject_ref == "actor:feuerwehr"))).all())
        assert {"actor.retired", "actor.moved"} <= kinds


async def test_a_browser_change_wins_over_the_file_from_then_on(stadt, make_config, aiohttp_client):
    boss = await admin_of(stadt)
    await boss.get("/admin/accounts/stadt")
    await boss.post("/admin/accounts/stadt", profile(name="", display_name="Aus dem Browser"))
    restarted = await aiohttp_client(create_app(make_config(), run_worker=False))  # the file says "Stadt Teststadt"
    actor = await (await restarted.get("/users/stadt", headers=AP)).json()
    assert actor["name"] == "Aus dem Browser"
    feuerwehr = await (await restarted.get("/users/feuerwehr", headers=AP)).json()
    assert feuerwehr["name"] == "Feuerwehr"  # never changed in the browser: still the file's


async def test_only_admins_reach_the_accounts_pages(stadt):
    erika_id, _ = await make_user(stadt.app[SESSIONS], "erika")
    erika = await signed_in(opened(stadt), stadt.app[SESSIONS], erika_id)
    assert (await erika.get("/admin/accounts")).status == 403
    assert (await erika.post("/admin/accounts", profile())).status == 403
    async with stadt.app[SESSIONS]() as session:
        assert await session.scalar(select(Job).where(Job.kind == "actor_update")) is None


def decoding_threads() -> int:
    """Threads other than the event loop's inside `process_image` (which every profile picture passes) now."""
    count = 0
    for ident, frame in sys._current_frames().items():
        if ident == threading.get_ident():
            continue
        while frame is not None and frame.f_code is not process_image.__code__:
            frame = frame.f_back
        count += frame is not None
    return count


async def test_pages_answer_while_a_large_profile_picture_is_decoded(stadt):
    """Asserted by overlap, never by a wall-clock threshold: with Pillow on the loop, the loop would not run
    while the picture is decoded, and the page could not be answered before the upload."""
    image = Image.new("RGB", (1800, 1800), (250, 250, 245))
    draw = ImageDraw.Draw(image)
    for i in range(0, 1800, 5):
        draw.line((0, i, 1800, 1800 - i), fill=(i % 255, 80, 160))
    out = io.BytesIO()
    image.save(out, "PNG")
    boss = await admin_of(stadt)
    await boss.get("/admin/accounts")
    form = with_files(profile(), header=("plan.png", out.getvalue()))
    upload = asyncio.create_task(boss.post("/admin/accounts", form))
    seen = 0
    while not seen and not upload.done():
        await asyncio.sleep(0.005)
        seen = decoding_threads()
    assert seen == 1, "the picture was decoded on the event loop"
    assert (await stadt.get("/@stadt")).status == 200
    assert not upload.done()
    assert (await upload).status == 303


def _stored_pictures(client) -> list[str]:
    media = client.app[CONFIG].instance.data_dir / "media"
    return sorted(p.name for p in media.glob("*.png")) if media.exists() else []


async def test_a_replaced_picture_leaves_no_old_file_behind(stadt):
    boss = await admin_of(stadt)
    await boss.get("/admin/accounts")
    page = await boss.post("/admin/accounts", with_files(profile(), avatar=("a.png", png()),
                                                         header=("h.png", png((900, 300), "red"))))
    assert page.status == 303
    first = _stored_pictures(stadt)
    assert [n.split("-")[0] for n in first] == ["avatar", "header"]
    await boss.get("/admin/accounts/theater")
    page = await boss.post("/admin/accounts/theater",
                           with_files(profile(name=""), avatar=("b.png", png(color="green"))))
    assert page.status == 303
    second = _stored_pictures(stadt)
    assert len(second) == 2 and first[0] not in second and first[1] in second  # the header stays
    actor = await (await stadt.get("/users/theater", headers=AP)).json()
    assert (await stadt.get(actor["icon"]["url"].removeprefix("http://stadt.test"))).status == 200
    await boss.get("/admin/accounts/theater")
    page = await boss.post("/admin/accounts/theater", with_files(profile(name=""), header=("i.png", png((900, 300)))))
    third = _stored_pictures(stadt)
    assert page.status == 303 and len(third) == 2 and second[0] in third and second[1] not in third
    # A refused header sends the form back: the avatar accepted with it is not kept either.
    await boss.get("/admin/accounts/theater")
    page = await boss.post("/admin/accounts/theater", with_files(
        profile(name=""), avatar=("c.png", png(color="white")), header=("x.pdf", b"%PDF-1.4 no image")))
    assert page.status == 422 and _stored_pictures(stadt) == third
