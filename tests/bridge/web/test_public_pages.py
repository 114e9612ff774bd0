"""Readers' pages: home, profile with stable cursors, permalink, hashtag, legal pages, 404 and 410."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest

from bridge.app import create_app
from bridge.store.db import utcnow
from support.public import delete, edit, editor, publish


@pytest.fixture
async def erika(sessions, test_password_hash):
    return await editor(sessions, test_password_hash)


async def page(client, path, **kwargs):
    response = await client.get(path, allow_redirects=False, **kwargs)
    return response, await response.text()


def visible(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


async def test_the_home_page_lists_the_accounts_and_the_instance_feeds(client):
    response, html = await page(client, "/")
    assert response.status == 200
    assert '<html lang="en">' in html
    assert 'href="http://stadt.test/@stadt"' in html and "Stadt Teststadt" in html and "@feuerwehr@stadt.test" in html
    assert 'rel="alternate" type="application/rss+xml"' in html and 'href="http://stadt.test/feed.atom"' in html
    for link in ('href="/imprint"', 'href="/privacy"', 'href="/accessibility"'):
        assert link in html
    assert "<script" not in html


async def test_a_profile_shows_published_posts_newest_first_and_links_every_feed(client, sessions, config, erika):
    first = await publish(sessions, config, erika, "Erster Beitrag")
    second = await publish(sessions, config, erika, "Zweiter Beitrag #Sommer")
    await publish(sessions, config, erika, "Entwurf der Feuerwehr", actor="feuerwehr")  # awaits approval
    response, html = await page(client, "/@stadt")
    assert response.status == 200
    text = visible(html)
    assert text.index("Zweiter Beitrag") < text.index("Erster Beitrag")
    assert "Entwurf der Feuerwehr" not in text
    for suffix, mime in (("rss", "application/rss+xml"), ("atom", "application/atom+xml"),
                         ("json", "application/feed+json")):
        assert f'<link rel="alternate" type="{mime}" title="Stadt Teststadt' in html
        assert f'href="http://stadt.test/@stadt.{suffix}"' in html
    assert f'href="http://stadt.test/@stadt/{second}"' in html and f'href="http://stadt.test/@stadt/{first}"' in html
    assert 'href="http://stadt.test/tags/Sommer"' in html
    assert '<meta name="robots" content="index, follow">' in html
    assert 'type="application/activity+json" href="http://stadt.test/users/stadt"' in html


async def test_profile_pages_use_stable_cursors(client, sessions, config, erika):
    ids = [await publish(sessions, config, erika, f"Beitrag Nummer {n:02d}") for n in range(25)]
    _, html = await page(client, "/@stadt")
    assert "Beitrag Nummer 24" in html and "Beitrag Nummer 05" in html and "Beitrag Nummer 04" not in html
    assert f'href="http://stadt.test/@stadt?max_id={ids[5]}"' in html and "min_id" not in html
    # A post published meanwhile does not shift the next page: the cursor is an id, not an offset.
    await publish(sessions, config, erika, "Neu dazugekommen")
    _, older = await page(client, f"/@stadt?max_id={ids[5]}")
    assert [n for n in range(25) if f"Beitrag Nummer {n:02d}" in older] == [0, 1, 2, 3, 4]
    assert "max_id" not in older.split("Older posts")[0][-200:] and "Older posts" not in older
    assert f'href="http://stadt.test/@stadt?min_id={ids[4]}"' in older
    _, newer = await page(client, f"/@stadt?min_id={ids[4]}")
    assert "Beitrag Nummer 05" in newer and "Beitrag Nummer 24" in newer and "Neu dazugekommen" not in newer
    assert '<meta name="robots" content="noindex, nofollow">' in newer
    response, _ = await page(client, "/@stadt?max_id=not-a-number")
    assert response.status == 200


async def test_a_permalink_shows_images_with_alt_text_the_warning_as_disclosure_and_the_edit(
        client, sessions, config, erika):
    post_id = await publish(sessions, config, erika, "Das Freibad öffnet #Sommer", cw="Wasser kalt",
                            images=(("Ein leeres Becken in der Sonne", False), ("", True)))
    await edit(sessions, config, erika, post_id, "Das Freibad öffnet morgen #Sommer",
               now=utcnow() + timedelta(minutes=5))
    response, html = await page(client, f"/@stadt/{post_id}")
    assert response.status == 200 and response.headers["Vary"] == "Accept"
    assert re.search(r"<details class=\"cw\">\s*<summary>Content warning: Wasser kalt", html)
    assert "Das Freibad öffnet morgen" in html.split("<details")[1]
    assert 'alt="Ein leeres Becken in der Sonne"' in html and 'alt=""' in html
    assert all(" alt=" in tag for tag in re.findall(r"<img\b[^>]*>", html))
    assert "edited" in visible(html)
    assert "No replies are shown here" in html
    assert '<meta name="fediverse:creator" content="@stadt@stadt.test">' in html
    note = f"http://stadt.test/users/stadt/statuses/{post_id}"
    assert f'<link rel="alternate" type="application/activity+json" href="{note}">' in html
    assert '<meta property="og:description" content="Content warning: Wasser kalt">' in html
    assert "og:image" not in html  # behind a content warning the image is not put into link previews
    assert f'<link rel="canonical" href="http://stadt.test/@stadt/{post_id}">' in html
    assert '<article class="post" lang="en"' in html


async def test_a_permalink_announces_images_locally_for_link_previews(client, sessions, config, erika):
    post_id = await publish(sessions, config, erika, "Neues Rathaus", images=(("Das Rathaus bei Nacht", False),))
    _, html = await page(client, f"/@stadt/{post_id}")
    image = re.search(r'<meta property="og:image" content="([^"]+)">', html).group(1)
    assert image.startswith("http://stadt.test/media/")
    assert '<meta property="og:image:alt" content="Das Rathaus bei Nacht">' in html
    assert '<meta property="og:description" content="Neues Rathaus">' in html
    media = await client.get(image.removeprefix("http://stadt.test"))
    assert media.status == 200 and media.headers["Content-Type"] == "image/png"


async def test_rel_me_and_robots_follow_the_account_settings(aiohttp_client, make_config, booted, sessions_only,
                                                             test_password_hash):
    config = make_config(actors=[{"name": "stadt", "display_name": "Stadt", "website": "https://stadt.example",
                                  "indexable": False}])
    client = await aiohttp_client(create_app(config, run_worker=False))
    user_id = await editor(sessions_only, test_password_hash)
    post_id = await publish(sessions_only, config, user_id, "Hallo")
    for path in ("/@stadt", f"/@stadt/{post_id}"):
        _, html = await page(client, path)
        assert '<link rel="me" href="https://stadt.example">' in html
        assert '<meta name="robots" content="noindex, nofollow">' in html


async def test_a_tag_page_lists_the_posts_with_the_tag_whatever_its_case(client, sessions, config, erika):
    await publish(sessions, config, erika, "Sommerfest am Markt #Sommer")
    await publish(sessions, config, erika, "Winterdienst #Winter")
    tagged = await publish(sessions, config, erika, "Später ohne Tag #sommer")
    response, html = await page(client, "/tags/SOMMER")
    assert response.status == 200 and "<h1>#sommer</h1>" in html
    assert "Sommerfest am Markt" in html and "Später ohne Tag" in html and "Winterdienst" not in html
    assert 'href="http://stadt.test/tags/sommer.rss"' in html
    await edit(sessions, config, erika, tagged, "Später ohne Tag")
    _, html = await page(client, "/tags/sommer")
    assert "Später ohne Tag" not in html
    _, empty = await page(client, "/tags/nichts")
    assert "No posts yet." in empty and '<meta name="robots" content="noindex, nofollow">' in empty


async def test_unknown_accounts_and_unpublished_posts_are_404_and_deleted_posts_410(client, sessions, config, erika):
    waiting = await publish(sessions, config, erika, "Wartet auf Freigabe", actor="feuerwehr")
    gone = await publish(sessions, config, erika, "Wird gelöscht")
    await delete(sessions, erika, gone)
    for path in ("/@niemand", "/@stadt/12345", f"/@feuerwehr/{waiting}", f"/@feuerwehr/{gone}"):
        response, html = await page(client, path)
        assert response.status == 404, path
        assert "Not found" in html and 'href="/privacy"' in html and "noindex" in html
    response, html = await page(client, f"/@stadt/{gone}")
    assert response.status == 410 and "Post deleted" in html and "Wird gelöscht" not in html
    _, profile = await page(client, "/@stadt")
    assert "Wird gelöscht" not in profile


async def test_the_legal_pages_show_configured_text_and_links(aiohttp_client, make_config, booted):
    config = make_config(privacy={"imprint_url": "https://stadt.example/impressum",
                                  "privacy_url": "http://stadt.test/privacy",
                                  "imprint_text": "Stadt Teststadt\n\nRathausplatz 1 <b>"})
    client = await aiohttp_client(create_app(config, run_worker=False))
    _, imprint = await page(client, "/imprint")
    assert "<p>Stadt Teststadt</p>" in imprint and "Rathausplatz 1 &lt;b&gt;" in imprint
    assert 'href="https://stadt.example/impressum"' in imprint
    _, privacy = await page(client, "/privacy")
    assert "No cookies are set" in privacy and 'href="mailto:dpo@stadt.test"' in privacy
    assert 'href="http://stadt.test/privacy"' not in privacy  # the configured URL is this very page
    response, accessibility = await page(client, "/accessibility")
    assert response.status == 200 and "WCAG 2.1" in accessibility


async def test_a_german_instance_speaks_german_to_readers(aiohttp_client, make_config, booted):
    client = await aiohttp_client(create_app(make_config(instance={"language": "de"}), run_worker=False))
    _, home = await page(client, "/")
    assert '<html lang="de">' in home and "Impressum" in home and "Datenschutz" in home
    response, missing = await page(client, "/@niemand")
    assert response.status == 404 and "Hier gibt es kein Konto mit diesem Namen." in missing
    response, form = await page(client, "/@stadt/follow?instance=x")
    assert response.status == 400 and "Das ist keine Serveradresse." in form
