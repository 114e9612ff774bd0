"""Following and interacting from the reader's own server: a 303 to it, or the form again with a reason."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from bridge.web.public.follow import HostReason, check_host, share_links
from support.public import editor, publish


@pytest.mark.parametrize("typed, host", [
    ("mastodon.social", "mastodon.social"),
    ("  https://Mastodon.Social/about ", "mastodon.social"),
    ("@anna@chaos.social", "chaos.social"),
    ("anna@social.bund.de", "social.bund.de"),
    ("bürger.example", "xn--brger-kva.example"),
])
def test_a_server_name_is_recognised_however_it_is_typed(typed, host):
    check = check_host(typed)
    assert check.reason is HostReason.OK and check.host == host


@pytest.mark.parametrize("typed, reason", [
    ("", HostReason.EMPTY), ("   ", HostReason.EMPTY), ("localhost", HostReason.INVALID),
    ("127.0.0.1", HostReason.INVALID), ("mastodon.social:8443", HostReason.INVALID),
    ("evil.example/../x", HostReason.OK), ("two words.example", HostReason.INVALID),
    ("-bad-.example", HostReason.INVALID), ("a" * 64 + ".example", HostReason.INVALID),
    ("javascript:alert(1)", HostReason.INVALID),
])
def test_anything_but_a_server_name_is_refused(typed, reason):
    assert check_host(typed).reason is reason


async def test_following_redirects_to_the_readers_server_with_our_actor(client):
    response = await client.get("/@stadt/follow?instance=@me@mastodon.social", allow_redirects=False)
    assert response.status == 303
    target = urlsplit(response.headers["Location"])
    assert (target.scheme, target.netloc, target.path) == ("https", "mastodon.social", "/authorize_interaction")
    assert parse_qs(target.query) == {"uri": ["http://stadt.test/users/stadt"]}


async def test_a_bad_server_name_gives_400_with_the_form_and_what_was_typed(client):
    response = await client.get("/@stadt/follow?instance=not%20a%20server", allow_redirects=False)
    html = await response.text()
    assert response.status == 400
    assert 'value="not a server"' in html and 'aria-invalid="true"' in html and 'role="alert"' in html
    assert 'action="/@stadt/follow"' in html


async def test_a_post_can_be_answered_from_the_readers_server(client, sessions, config, test_password_hash):
    post_id = await publish(sessions, config, await editor(sessions, test_password_hash), "Bitte teilen")
    response = await client.get(f"/@stadt/{post_id}/interact?instance=chaos.social", allow_redirects=False)
    assert response.status == 303
    assert parse_qs(urlsplit(response.headers["Location"]).query) == {
        "uri": [f"http://stadt.test/users/stadt/statuses/{post_id}"]}
    html = await (await client.get(f"/@stadt/{post_id}")).text()
    assert f'action="/@stadt/{post_id}/interact"' in html and 'method="get"' in html
    missing = await client.get("/@stadt/999/interact?instance=chaos.social", allow_redirects=False)
    assert missing.status == 404
    unknown = await client.get("/@niemand/follow", allow_redirects=False)
    assert unknown.status == 404


def test_share_links_are_plain_links_with_the_post_url():
    links = share_links("https://stadt.example/@stadt/1", "Freibad öffnet")
    assert [link.label for link in links][:2] == ["E-mail", "Bluesky"]
    assert all("https%3A%2F%2Fstadt.example%2F%40stadt%2F1" in link.url for link in links)
