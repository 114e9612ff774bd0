"""Feeds as feed readers fetch them: three formats per account, hashtag and instance; conditional GET."""

from __future__ import annotations

import json
from datetime import timedelta

import feedparser
import pytest
from lxml import etree

from bridge.app import create_app
from bridge.store.db import utcnow
from support.public import delete, edit, editor, publish

KINDS = {"rss": "application/rss+xml", "atom": "application/atom+xml", "json": "application/feed+json"}


@pytest.fixture
async def erika(sessions, test_password_hash):
    return await editor(sessions, test_password_hash)


async def fetch(client, path, **headers):
    response = await client.get(path, headers=headers)
    return response, await response.read()


def parsed(body: bytes):
    feed = feedparser.parse(body)
    assert feed.bozo == 0, feed.get("bozo_exception")
    return feed


@pytest.mark.parametrize("kind", ["rss", "atom"])
async def test_account_feeds_carry_titles_links_guids_dates_and_images_with_alt_text(
        client, sessions, config, erika, kind):
    plain = await publish(sessions, config, erika, "Straßenfest am Samstag #Fest")
    pictured = await publish(sessions, config, erika, "Neue Brücke", images=(("Die neue Brücke im Nebel", False),))
    response, body = await fetch(client, f"/@stadt.{kind}")
    assert response.status == 200 and response.headers["Content-Type"].startswith(KINDS[kind])
    feed = parsed(body)
    assert feed.feed.title == "Stadt Teststadt" and feed.feed.link == "http://stadt.test/@stadt"
    first, second = feed.entries
    assert first.id == f"http://stadt.test/users/stadt/statuses/{pictured}"
    assert first.link == f"http://stadt.test/@stadt/{pictured}"
    assert second.id == f"http://stadt.test/users/stadt/statuses/{plain}"
    assert "Straßenfest am Samstag" in second.content[0].value and second.published_parsed
    assert [t.term for t in second.tags] == ["fest"]
    enclosure = first.enclosures[0]
    assert enclosure.href.startswith("http://stadt.test/media/") and enclosure.type == "image/png"
    assert first.media_content[0]["url"] == enclosure.href
    assert 'alt="Die neue Brücke im Nebel"' in first.content[0].value
    assert b"Die neue Br\xc3\xbccke im Nebel" in body.split(b"<media:description")[1] if kind == "rss" else True
    links = etree.fromstring(body).iter("{http://www.w3.org/2005/Atom}link")
    alternates = {link.get("href") for link in links if link.get("rel") == "alternate"}
    assert {"http://stadt.test/@stadt.json"} <= alternates


async def test_the_json_feed_follows_json_feed_1_1(client, sessions, config, erika):
    post_id = await publish(sessions, config, erika, "Hallo JSON", cw="Lärm",
                            images=(("Ein Presslufthammer", False),))
    response, body = await fetch(client, "/@stadt.json")
    assert response.headers["Content-Type"] == "application/feed+json; charset=utf-8"
    document = json.loads(body)
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert document["feed_url"] == "http://stadt.test/@stadt.json"
    item = document["items"][0]
    assert item["id"] == f"http://stadt.test/users/stadt/statuses/{post_id}"
    assert item["url"] == f"http://stadt.test/@stadt/{post_id}"
    assert "Lärm" in item["content_html"] and "Hallo JSON" in item["content_html"]
    attachment = item["attachments"][0]
    assert attachment["mime_type"] == "image/png" and attachment["title"] == "Ein Presslufthammer"


async def test_content_warnings_come_first_and_edits_set_updated(client, sessions, config, erika):
    post_id = await publish(sessions, config, erika, "Sirenen werden getestet", cw="Lautstärke")
    await edit(sessions, config, erika, post_id, "Sirenen werden morgen getestet",
               now=utcnow() + timedelta(minutes=10))
    for kind in ("rss", "atom"):
        entry = parsed((await fetch(client, f"/@stadt.{kind}"))[1]).entries[0]
        assert entry.title.startswith("CW: Lautstärke")
        assert entry.content[0].value.index("Lautstärke") < entry.content[0].value.index("morgen getestet")
        assert entry.updated_parsed > entry.published_parsed


async def test_deleted_posts_leave_every_feed(client, sessions, config, erika):
    kept = await publish(sessions, config, erika, "Bleibt #Markt")
    gone = await publish(sessions, config, erika, "Verschwindet #Markt")
    await delete(sessions, erika, gone)
    for path in ("/@stadt.atom", "/tags/markt.atom", "/feed.atom"):
        ids = [e.id for e in parsed((await fetch(client, path))[1]).entries]
        assert ids == [f"http://stadt.test/users/stadt/statuses/{kept}"], path


async def test_tag_and_instance_feeds_collect_the_published_posts(client, sessions, config, erika):
    await publish(sessions, config, erika, "Stadt zum #Hochwasser")
    await publish(sessions, config, erika, "Feuerwehr zum #hochwasser", actor="feuerwehr")  # awaits approval
    feed = parsed((await fetch(client, "/tags/Hochwasser.rss"))[1])
    assert feed.feed.title == "#hochwasser – Stadt Teststadt" and len(feed.entries) == 1
    instance = parsed((await fetch(client, "/feed.rss"))[1])
    assert instance.feed.title == "Stadt Teststadt" and len(instance.entries) == 1
    response, _ = await fetch(client, "/@niemand.rss")
    assert response.status == 404


async def test_conditional_get_answers_304_until_something_changes(client, sessions, config, erika):
    await publish(sessions, config, erika, "Erste Meldung")
    response, _ = await fetch(client, "/@stadt.rss")
    etag, modified = response.headers["ETag"], response.headers["Last-Modified"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert response.headers["Cache-Control"] == "public, max-age=60"
    for headers in ({"If-None-Match": etag}, {"If-Modified-Since": modified}):
        again, body = await fetch(client, "/@stadt.rss", **headers)
        assert again.status == 304 and body == b"" and again.headers["ETag"] == etag
    other_format, _ = await fetch(client, "/@stadt.atom", **{"If-None-Match": etag})
    assert other_format.status == 200
    await publish(sessions, config, erika, "Zweite Meldung", now=utcnow() + timedelta(seconds=2))
    changed, body = await fetch(client, "/@stadt.rss", **{"If-None-Match": etag})
    assert changed.status == 200 and changed.headers["ETag"] != etag and b"Zweite Meldung" in body
    since, _ = await fetch(client, "/@stadt.rss", **{"If-Modified-Since": modified})
    assert since.status == 200


async def test_feeds_advertise_the_websub_hub(aiohttp_client, make_config, booted):
    config = make_config(feeds={"websub_hub": "https://hub.example/"})
    client = await aiohttp_client(create_app(config, run_worker=False))
    for kind in ("rss", "atom"):
        body = (await fetch(client, f"/@stadt.{kind}"))[1]
        atom_links = etree.fromstring(body).iter("{http://www.w3.org/2005/Atom}link")
        links = {(link.get("rel"), link.get("href")) for link in atom_links}
        assert ("hub", "https://hub.example") in links and ("self", f"http://stadt.test/@stadt.{kind}") in links
    document = json.loads((await fetch(client, "/@stadt.json"))[1])
    assert document["hubs"] == [{"type": "WebSub", "url": "https://hub.example"}]
