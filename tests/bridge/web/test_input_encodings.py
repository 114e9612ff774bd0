"""Unexpected encodings from clients and peers: a 4xx with a reason code, nothing stored, the same on SQLite
and PostgreSQL (issue 16, defect 7)."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiohttp import FormData
from sqlalchemy import func, select
from support.api import bearer, make_token
from support.web import compose_form, count_posts, editor, visitors  # noqa: F401

from bridge.store.models import User
from consent.models import AuditEntry

BROKEN_MULTIPART = (b"--frontier\r\nContent-Disposition: form-data; name=\"status\"\r\n\r\nHallo\r\n"
                    b"--frontier\r\nContent-Disposition: form-data\r\nContent-Type: text/plain; charset=x-nope"
                    b"\r\n\r\nkaputt")


@pytest.fixture
async def token(sessions):
    return await make_token(sessions)


async def raw_request(client, head: bytes, body: bytes = b"") -> tuple[int, bytes]:
    """Bytes on the wire as a careless or hostile client sends them (aiohttp's client refuses to)."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(head + b"Host: stadt.test\r\nConnection: close\r\n"
                 + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    await writer.drain()
    answer = await reader.read()
    writer.close()
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


async def audit_count(sessions) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count(AuditEntry.seq)))


async def test_a_bearer_token_with_bytes_beyond_ascii_is_an_audited_401(client, sessions):
    before = await audit_count(sessions)
    status, body = await raw_request(client, b"GET /api/v1/accounts/verify_credentials HTTP/1.1\r\n"
                                             b"Authorization: Bearer \xff\xfe\xc3(\r\n")
    assert status == 401
    assert json.loads(body)["error"] == "The access token is invalid"
    assert await audit_count(sessions) == before + 1  # refused as an unknown token, and audited as one


@pytest.mark.parametrize("text", ["Hallo \ud800 Welt", "Hallo \x00 Welt", "\udfff"])
async def test_a_nul_or_a_lone_surrogate_in_json_is_refused_with_a_reason(client, sessions, token, text):
    body = json.dumps({"status": text})  # ensure_ascii: the escapes arrive as JSON allows them
    response = await client.post("/api/v1/statuses", data=body, headers={
        **bearer(token), "Content-Type": "application/json"})
    assert response.status == 422
    assert (await response.json())["reason"] == "invalid_characters"
    assert await count_posts(sessions) == 0


@pytest.mark.parametrize("body", [b"status=Hallo%00", b"status=x&spoiler_text=%00", b"status=x&language=d%00e",
                                  b"st%00atus=1&status=x"])
async def test_a_nul_in_an_api_form_is_refused_with_a_reason(client, sessions, token, body):
    response = await client.post("/api/v1/statuses", data=body, headers={
        **bearer(token), "Content-Type": "application/x-www-form-urlencoded"})
    assert response.status == 422
    assert (await response.json())["reason"] == "invalid_characters"
    assert await count_posts(sessions) == 0


async def test_a_nul_in_the_query_of_an_api_call_is_refused(client, sessions, token):
    response = await client.post("/api/v1/statuses?status=a%00b", headers=bearer(token))
    assert response.status == 422
    assert await count_posts(sessions) == 0


async def test_a_nul_in_the_compose_form_is_refused_and_nothing_is_stored(visitors, sessions):
    browser = await editor(visitors, sessions, "erika")
    page = await browser.post("/editor/compose", compose_form("Hallo\x00Welt"))
    assert page.status == 422
    assert await count_posts(sessions) == 0
    plain = FormData({"actor": "stadt", "text": "Hallo\x00Welt", "csrf": browser.csrf})  # urlencoded too
    async with browser.session.post(browser.url("/editor/compose"), data=plain) as response:
        assert response.status == 422
    assert await count_posts(sessions) == 0


async def test_json_nested_ten_thousand_deep_is_a_400_with_a_reason(client, sessions, token):
    body = '{"status": "x", "poll": ' + "[" * 10_000 + "]" * 10_000 + "}"
    response = await client.post("/api/v1/statuses", data=body, headers={
        **bearer(token), "Content-Type": "application/json"})
    assert response.status == 400
    assert (await response.json())["reason"] == "too_deep"
    assert await count_posts(sessions) == 0


@pytest.mark.parametrize("content_type", ["application/json; charset=x-nope",
                                          "application/x-www-form-urlencoded; charset=x-nope",
                                          "multipart/form-data; boundary=frontier"])
async def test_an_unknown_charset_or_a_broken_multipart_body_to_the_api_is_a_400(client, sessions, token,
                                                                                 content_type):
    body = BROKEN_MULTIPART if content_type.startswith("multipart") else b'{"status": "Hallo"}'
    response = await client.post("/api/v1/statuses", data=body, headers={
        **bearer(token), "Content-Type": content_type})
    assert response.status == 400
    assert (await response.json())["reason"] == "unreadable_body"
    assert await count_posts(sessions) == 0


async def test_json_in_a_named_charset_is_read_in_it(client, sessions, token):
    response = await client.post("/api/v1/statuses", data='{"status": "Straße"}'.encode("latin-1"), headers={
        **bearer(token), "Content-Type": "application/json; charset=latin-1"})
    assert response.status == 200, await response.text()
    assert "Straße" in (await response.json())["content"]


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded; charset=x-nope",
                                          "multipart/form-data; boundary=frontier"])
async def test_an_unknown_charset_or_a_broken_multipart_body_to_an_editor_form_is_a_400(visitors, sessions,
                                                                                         content_type):
    browser = await editor(visitors, sessions, "erika")
    body = BROKEN_MULTIPART if content_type.startswith("multipart") else b"text=Hallo"
    async with browser.session.post(browser.url("/editor/compose"), data=body,
                                    headers={"Content-Type": content_type}) as response:
        assert response.status == 400
    assert await count_posts(sessions) == 0


async def test_an_anonymous_form_with_an_unknown_charset_is_a_400(client):
    response = await client.post("/signin", data=b"name=a", headers={
        "Content-Type": "application/x-www-form-urlencoded; charset=x-nope"})
    assert response.status == 400


@pytest.mark.parametrize("query", ["max_id=" + "9" * 27, "min_id=" + "9" * 27, "max_id=²", "min_id=١٢"])
async def test_outbox_pages_with_implausible_cursors_answer(client, query):
    response = await client.get(f"/users/stadt/outbox?page=true&{query}",
                                headers={"Accept": "application/activity+json"})
    assert response.status == 200
    assert (await response.json())["type"] == "OrderedCollectionPage"


@pytest.mark.parametrize("post_id", ["9" * 27, "²", "18446744073709551615"])
async def test_a_note_with_an_implausible_id_is_a_404(client, post_id):
    response = await client.get(f"/users/stadt/statuses/{post_id}",
                                headers={"Accept": "application/activity+json"})
    assert response.status == 404



@pytest.mark.parametrize("path", ["/tags/%00", "/tags/a%00.rss", "/media/%00", "/users/stadt/quote_authorizations/%00",
                                  "/@stadt?max_id=%00", "/editor/actors/%00"])
async def test_a_nul_in_a_path_or_query_is_a_422_before_any_lookup(client, path):
    response = await client.get(path, allow_redirects=False)
    assert response.status == 422


async def test_a_nul_in_an_api_path_is_a_422_with_the_reason(client, token):
    response = await client.get("/api/v1/statuses/1%00", headers=bearer(token))
    assert response.status == 422
    assert (await response.json())["reason"] == "invalid_characters"


@pytest.mark.parametrize("post_id", ["9999999999999999999", "9223372036854775808"])
async def test_a_permalink_or_interaction_page_beyond_64_bits_is_a_404(client, post_id):
    for path in (f"/@stadt/{post_id}", f"/@stadt/{post_id}/interact"):
        assert (await client.get(path)).status == 404


async def test_an_api_status_id_in_other_digits_is_a_404(client, token):
    response = await client.get("/api/v1/statuses/%C2%B2", headers=bearer(token))
    assert response.status == 404


async def test_a_multipart_form_to_a_handler_that_reads_the_form_itself_works(visitors, sessions):
    """The middleware reads a signed-in person's multipart form part by part; a handler asking aiohttp for the
    form again got a 500 (the body was consumed) — the class of issue 16's preview defect."""
    browser = await editor(visitors, sessions, "erika")
    form = FormData([("language", "de"), ("csrf", browser.csrf)])
    form.add_field("unused", b"\x89PNG", filename="bild.png", content_type="image/png")  # makes it multipart
    async with browser.session.post(browser.url("/language"), data=form, allow_redirects=False) as response:
        assert response.status == 303
    async with sessions() as session:
        assert (await session.scalar(select(User.language).where(User.name == "erika"))) == "de"


@pytest.mark.parametrize("signed_in_editor", [True, False])
async def test_a_form_token_beyond_ascii_is_a_403_not_a_500(visitors, sessions, signed_in_editor):
    browser = await editor(visitors, sessions, "erika") if signed_in_editor else visitors()
    async with browser.session.post(browser.url("/editor/compose"), data={"csrf": "Tökén", "text": "x"},
                                    allow_redirects=False) as response:
        assert response.status == 403
    assert await count_posts(sessions) == 0


async def test_a_german_editor_reads_the_refusal_in_german(visitors, sessions):
    browser = await editor(visitors, sessions, "erika")
    await browser.post("/language", {"language": "de"})
    page = await browser.post("/editor/compose", compose_form("Hallo\x00"))
    assert page.status == 422 and page.has("Die Anfrage enthält Zeichen, die nicht gespeichert werden können")


@pytest.mark.parametrize("path", [b"/", b"/@stadt", b"/editor", b"/signin"])
async def test_a_session_cookie_with_bytes_beyond_utf8_is_no_session(client, path):
    status, _ = await raw_request(client, b"GET " + path + b" HTTP/1.1\r\nCookie: stadtbote=\xff\xfe\xc3(\r\n")
    assert status in (200, 302, 303)
