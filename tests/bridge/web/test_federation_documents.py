"""What Mastodon and other servers read from us: WebFinger, NodeInfo, actors, outbox, notes."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from bridge.publishing import posts
from bridge.store.models import Post, Role
from bridge.publishing.posts import Draft
from bridge.auth.users import find_user
from bridge.app import create_app
from bridge.config.model import ConfigError
from bridge.config.load import parse_config
from testkit import add_user, config_dict

AP = {"Accept": "application/activity+json"}
LD = {"Accept": 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'}


@pytest.fixture
async def editor(sessions, test_password_hash):
    async with sessions.begin() as s:
        await add_user(s, "erika", Role.EDITOR, ["stadt", "feuerwehr"], test_password_hash)


async def publish(sessions, config, text, actor="stadt", **extra) -> int:
    async with sessions.begin() as s:
        result = await posts.create_post(s, config, await find_user(s, "erika"), Draft(actor, text, **extra))
        assert result.ok, result.reason
        return result.post.id


async def test_webfinger_finds_configured_accounts_only(client):
    resp = await client.get("/.well-known/webfinger", params={"resource": "acct:stadt@stadt.test"})
    assert resp.status == 200 and resp.content_type == "application/jrd+json"
    jrd = await resp.json()
    assert jrd["subject"] == "acct:stadt@stadt.test"
    assert {"rel": "self", "type": "application/activity+json", "href": "http://stadt.test/users/stadt"} in jrd["links"]
    for resource, status in [("acct:nobody@stadt.test", 404), ("acct:stadt@elsewhere.example", 404),
                             ("", 400), ("http://stadt.test/users/stadt", 200)]:
        assert (await client.get("/.well-known/webfinger", params={"resource": resource})).status == status


async def test_host_meta_and_nodeinfo(client, editor, sessions, config):
    meta = await client.get("/.well-known/host-meta")
    assert meta.status == 200 and 'template="http://stadt.test/.well-known/webfinger?resource={uri}"' in await meta.text()
    links = (await (await client.get("/.well-known/nodeinfo")).json())["links"]
    assert links[0]["href"] == "http://stadt.test/nodeinfo/2.1"
    await publish(sessions, config, "Hallo")
    info = await (await client.get("/nodeinfo/2.1")).json()
    assert info["software"]["name"] == "stadtbote" and info["protocols"] == ["activitypub"]
    assert info["usage"] == {"users": {"total": 2, "activeMonth": 2, "activeHalfyear": 2}, "localPosts": 1}
    assert info["openRegistrations"] is False


async def test_actor_document_has_what_mastodon_reads(client):
    resp = await client.get("/users/stadt", headers=AP)
    assert resp.status == 200 and resp.content_type == "application/activity+json"
    assert "Accept" in resp.headers["Vary"]
    actor = await resp.json()
    assert actor["type"] == "Organization" and actor["preferredUsername"] == "stadt"
    assert actor["inbox"] == "http://stadt.test/users/stadt/inbox"
    assert actor["endpoints"]["sharedInbox"] == "http://stadt.test/inbox"
    assert actor["publicKey"]["id"] == "http://stadt.test/users/stadt#main-key"
    assert "BEGIN PUBLIC KEY" in actor["publicKey"]["publicKeyPem"]
    assert actor["manuallyApprovesFollowers"] is False and actor["discoverable"] is True
    assert {f["name"] for f in actor["attachment"]} == {"Impressum", "Datenschutz"}
    assert (await client.get("/users/stadt", headers=LD)).status == 200
    html = await client.get("/users/stadt", headers={"Accept": "text/html"}, allow_redirects=False)
    assert html.status == 302 and html.headers["Location"] == "http://stadt.test/@stadt"
    assert (await client.get("/users/nobody", headers=AP)).status == 404


async def test_instance_actor_is_an_application_and_fetchable_unsigned(client):
    actor = await (await client.get("/users/instance.actor", headers={"Accept": "text/html"})).json()
    assert actor["type"] == "Application" and "BEGIN PUBLIC KEY" in actor["publicKey"]["publicKeyPem"]


async def test_outbox_pages_like_mastodon(client, editor, sessions, config):
    ids = [await publish(sessions, config, f"Meldung {n}") for n in range(23)]
    collection = await (await client.get("/users/stadt/outbox", headers=AP)).json()
    assert collection["type"] == "OrderedCollection" and collection["totalItems"] == 23
    first = await (await client.get(collection["first"].replace("http://stadt.test", ""), headers=AP)).json()
    assert first["type"] == "OrderedCollectionPage" and len(first["orderedItems"]) == 20
    assert first["orderedItems"][0]["type"] == "Create"
    assert first["orderedItems"][0]["object"]["id"] == f"http://stadt.test/users/stadt/statuses/{ids[-1]}"
    second = await (await client.get(first["next"].replace("http://stadt.test", ""), headers=AP)).json()
    assert [a["object"]["content"] for a in second["orderedItems"]] == [f"<p>Meldung {n}</p>" for n in (2, 1, 0)]
    assert "next" not in second


async def test_followers_and_following_publish_counts_only(client):
    followers = await (await client.get("/users/stadt/followers", headers=AP)).json()
    assert followers["totalItems"] == 0 and "orderedItems" not in followers and "first" not in followers
    assert (await (await client.get("/users/stadt/following", headers=AP)).json())["totalItems"] == 0


async def test_a_note_negotiates_and_a_deleted_one_is_a_tombstone(client, editor, sessions, config):
    post_id = await publish(sessions, config, "Sperrung der #Hauptstraße, Infos @erika@mastodon.test",
                            spoiler_text="Verkehr", language="de")
    path = f"/users/stadt/statuses/{post_id}"
    note = await (await client.get(path, headers=AP)).json()
    assert note["type"] == "Note" and note["attributedTo"] == "http://stadt.test/users/stadt"
    assert note["to"] == ["https://www.w3.org/ns/activitystreams#Public"]
    assert "http://stadt.test/users/stadt/followers" in note["cc"] and "https://mastodon.test/@erika" in note["cc"]
    assert note["summary"] == "Verkehr" and note["sensitive"] is True and note["contentMap"]["de"] == note["content"]
    assert any(t["type"] == "Hashtag" and t["name"] == "#Hauptstraße" and t["href"].startswith("http://stadt.test/tags/")
               for t in note["tag"])
    assert note["url"] == f"http://stadt.test/@stadt/{post_id}"
    html = await client.get(path, allow_redirects=False)
    assert html.status == 302 and html.headers["Location"] == f"http://stadt.test/@stadt/{post_id}"
    async with sessions.begin() as s:
        await posts.delete_post(s, await find_user(s, "erika"), await s.get(Post, post_id))
    gone = await client.get(path, headers=AP)
    assert gone.status == 410 and (await gone.json())["type"] == "Tombstone"


async def test_unpublished_posts_are_not_served(client, editor, sessions, config):
    draft_id = await publish(sessions, config, "Wartet auf Freigabe", actor="feuerwehr")
    assert (await client.get(f"/users/feuerwehr/statuses/{draft_id}", headers=AP)).status == 404
    assert (await client.get(f"/users/stadt/statuses/{draft_id}", headers=AP)).status == 404
    assert (await client.get("/users/stadt/statuses/notanumber", headers=AP)).status == 404


async def test_featured_lists_pinned_posts(client, editor, sessions, config):
    post_id = await publish(sessions, config, "Wichtig: Notrufnummern")
    async with sessions.begin() as s:
        (await s.get(Post, post_id)).pinned = True
    featured = await (await client.get("/users/stadt/collections/featured", headers=AP)).json()
    assert featured["totalItems"] == 1 and featured["orderedItems"][0]["id"].endswith(str(post_id))


async def test_the_permalink_serves_the_note_to_servers_and_html_to_people(client, editor, sessions, config):
    post_id = await publish(sessions, config, "Ein Beitrag")
    note = await client.get(f"/@stadt/{post_id}", headers=AP)
    assert note.status == 200 and note.content_type == "application/activity+json"
    assert (await note.json())["id"] == f"http://stadt.test/users/stadt/statuses/{post_id}"
    page = await client.get(f"/@stadt/{post_id}", headers={"Accept": "text/html"})
    assert page.status == 200 and page.content_type == "text/html" and "Accept" in page.headers["Vary"]


async def test_a_configured_avatar_is_the_actors_icon_re_encoded_without_metadata(aiohttp_client, make_config,
                                                                                   booted, tmp_path):
    source = tmp_path / "wappen.jpg"
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    Image.new("RGB", (1200, 800), "red").save(source, "JPEG", exif=exif)
    config = make_config(actors=[{"name": "stadt", "display_name": "Stadt", "avatar": str(source)},
                                 {"name": "feuerwehr"}])
    client = await aiohttp_client(create_app(config, run_worker=False))
    actor = await (await client.get("/users/stadt", headers=AP)).json()
    assert actor["icon"] == {"type": "Image", "mediaType": "image/png", "url": "http://stadt.test/avatars/stadt.png"}
    assert "icon" not in await (await client.get("/users/feuerwehr", headers=AP)).json()
    picture = await client.get("/avatars/stadt.png")
    body = await picture.read()
    assert picture.status == 200 and picture.content_type == "image/png" and b"SecretCam" not in body
    assert Image.open(io.BytesIO(body)).size == (400, 267)
    assert (await client.get("/avatars/feuerwehr.png")).status == 404
    account = await (await client.get("/api/v1/instance")).json()
    assert account["contact_account"]["avatar"] == "http://stadt.test/avatars/stadt.png"


def test_a_missing_avatar_file_is_a_config_error(tmp_path, db_url):
    with pytest.raises(ConfigError, match=r"actors\[0\].avatar: file not found"):
        parse_config(config_dict(tmp_path, db_url, actors=[{"name": "stadt", "avatar": "nope.png"}]), tmp_path,
                     None, {})
