"""PUT /api/v1/statuses/:id and what an app reads around an edit: history, source, context, and the
lists of people (always empty) — over real HTTP against a real database."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from bridge.appkeys import CONFIG
from bridge.auth.users import find_user
from bridge.publishing.drafts import content_sha256
from bridge.publishing.posts import approve_post
from bridge.store.models import Post, PostEdit, PostRevision, PostState
from consent.models import AuditEntry
from support.api import bearer, make_token, upload


@pytest.fixture
async def token(sessions):
    return await make_token(sessions)


async def post_status(client, token, **fields) -> dict:
    response = await client.post("/api/v1/statuses", json={"status": "Erster Text", **fields}, headers=bearer(token))
    assert response.status == 200, await response.text()
    return await response.json()


async def approved_fire_post(client, sessions) -> tuple[str, dict]:
    """A published post of the four-eyes account "feuerwehr": written through the API, approved by another editor."""
    author = await make_token(sessions, user="wehr-autor", actors=("feuerwehr",), actor="feuerwehr")
    status = await post_status(client, author)
    await make_token(sessions, user="wehr-chef", actors=("feuerwehr",), actor="feuerwehr")
    async with sessions.begin() as session:
        post = await session.get(Post, int(status["id"]))
        chief = await find_user(session, "wehr-chef")
        result = await approve_post(session, client.app[CONFIG], chief, post, content_sha256(post))
        assert result.ok, result.reason
    return author, status


async def test_an_edit_changes_the_status_and_keeps_the_old_text_in_its_history(client, sessions, token):
    status = await post_status(client, token, spoiler_text="Hinweis")
    response = await client.put(f"/api/v1/statuses/{status['id']}", headers=bearer(token),
                                data={"status": "Zweiter Text #Stadt", "spoiler_text": ""})
    assert response.status == 200, await response.text()
    edited = await response.json()
    assert "Zweiter Text" in edited["content"] and edited["edited_at"] is not None
    assert edited["spoiler_text"] == "" and edited["sensitive"] is False
    assert edited["tags"] == [{"name": "stadt", "url": "http://stadt.test/tags/stadt"}]

    history = await (await client.get(f"/api/v1/statuses/{status['id']}/history", headers=bearer(token))).json()
    assert [("Erster Text" in h["content"], h["spoiler_text"]) for h in history] == [(True, "Hinweis"), (False, "")]
    assert "Zweiter Text" in history[-1]["content"] and history[-1]["created_at"] == edited["edited_at"]
    assert history[0]["created_at"] == status["created_at"]
    assert set(history[0]) == {"content", "spoiler_text", "sensitive", "created_at", "account", "poll",
                               "media_attachments", "emojis"}
    async with sessions() as session:
        assert await session.scalar(select(func.count(PostRevision.id))) == 1
        actions = (await session.scalars(select(AuditEntry.action))).all()
    assert "post.edited" in actions


async def test_an_unedited_status_has_a_history_of_one(client, token):
    status = await post_status(client, token)
    history = await (await client.get(f"/api/v1/statuses/{status['id']}/history")).json()
    assert len(history) == 1 and history[0]["created_at"] == status["created_at"]


async def test_an_edit_keeps_an_image_only_when_its_id_is_sent_and_can_change_its_alt_text(client, token):
    media = await upload(client, token)
    status = await post_status(client, token, media_ids=[media["id"]])
    response = await client.put(f"/api/v1/statuses/{status['id']}", headers=bearer(token), json={
        "status": "Mit neuem Alt-Text", "media_ids": [media["id"]],
        "media_attributes": [{"id": media["id"], "description": "Ein rotes Viereck"}]})
    assert response.status == 200, await response.text()
    assert [m["description"] for m in (await response.json())["media_attachments"]] == ["Ein rotes Viereck"]
    response = await client.put(f"/api/v1/statuses/{status['id']}", headers=bearer(token), json={"status": "Ohne"})
    assert (await response.json())["media_attachments"] == []  # as Mastodon: what is not sent is removed


async def test_the_source_is_the_plain_text_for_the_own_account_only(client, sessions, token):
    status = await post_status(client, token, status="Text mit #Tag", spoiler_text="CW")
    response = await client.get(f"/api/v1/statuses/{status['id']}/source", headers=bearer(token))
    assert await response.json() == {"id": status["id"], "text": "Text mit #Tag", "spoiler_text": "CW"}
    other = await make_token(sessions, user="feuerwehr-skript", actors=("feuerwehr",), actor="feuerwehr")
    response = await client.get(f"/api/v1/statuses/{status['id']}/source", headers=bearer(other))
    assert response.status == 404 and await response.json() == {"error": "Record not found"}
    assert (await client.get(f"/api/v1/statuses/{status['id']}/source")).status == 401


async def test_an_edit_on_an_approval_account_waits_and_the_answer_says_so(client, sessions):
    author, status = await approved_fire_post(client, sessions)
    response = await client.put(f"/api/v1/statuses/{status['id']}", headers=bearer(author),
                                data={"status": "Geänderter Einsatzbericht"})
    assert response.status == 200, await response.text()
    answer = await response.json()
    assert answer["stadtbote"] == {"state": "published", "edit": "awaiting_approval"}
    assert "Erster Text" in answer["content"] and answer["edited_at"] is None  # the public keeps the approved text
    public = await (await client.get(f"/api/v1/statuses/{status['id']}")).json()
    assert "Erster Text" in public["content"]
    async with sessions() as session:
        edit = await session.scalar(select(PostEdit))
    assert edit.state == "pending" and edit.text == "Geänderter Einsatzbericht"
    history = await (await client.get(f"/api/v1/statuses/{status['id']}/history")).json()
    assert len(history) == 1  # nothing changed in public yet


async def test_an_edit_of_a_scheduled_status_keeps_its_time(client, sessions, token):
    when = (datetime.now(timezone.utc) + timedelta(days=1)).replace(microsecond=0)
    scheduled = await post_status(client, token, scheduled_at=when.isoformat())
    response = await client.put(f"/api/v1/statuses/{scheduled['id']}", headers=bearer(token),
                                data={"status": "Später, aber anders"})
    assert response.status == 200, await response.text()
    async with sessions() as session:
        post = await session.get(Post, int(scheduled["id"]))
    assert post.state == PostState.SCHEDULED and post.scheduled_at == when and post.text == "Später, aber anders"


async def test_an_edit_of_another_accounts_status_is_not_found_and_changes_nothing(client, sessions, token):
    status = await post_status(client, token)
    other = await make_token(sessions, user="feuerwehr-skript", actors=("feuerwehr",), actor="feuerwehr")
    response = await client.put(f"/api/v1/statuses/{status['id']}", headers=bearer(other), data={"status": "fremd"})
    assert response.status == 404 and await response.json() == {"error": "Record not found"}
    async with sessions() as session:
        assert (await session.get(Post, int(status["id"]))).text == "Erster Text"


@pytest.mark.parametrize("fields, message", [
    ({"status": ""}, "Validation failed: write some text or attach an image"),
    ({"status": "x" * 5000}, "Validation failed: the text is longer than allowed"),
    ({"status": "x", "scheduled_at": "2030-01-01T00:00:00Z"}, "Validation failed: scheduled_at cannot be changed"),
    ({"status": "x", "media_ids": ["99"]}, "Validation failed: an attached image does not exist"),
    ({"status": "x", "media_attributes": ["kein Objekt"]}, "Validation failed: media_attributes must be"),
    ({"status": "x", "visibility": "direct"}, 'Validation failed: visibility "direct" is not available'),
])
async def test_a_bad_edit_is_a_validation_error_and_changes_nothing(client, sessions, token, fields, message):
    status = await post_status(client, token)
    response = await client.put(f"/api/v1/statuses/{status['id']}", headers=bearer(token), json=fields)
    assert response.status == 422, await response.text()
    assert (await response.json())["error"].startswith(message)
    async with sessions() as session:
        assert (await session.get(Post, int(status["id"]))).text == "Erster Text"


@pytest.mark.parametrize("path", ["", "/history", "/source", "/context", "/favourited_by", "/reblogged_by"])
async def test_a_draft_is_shown_to_nobody(client, sessions, token, path):
    status = await post_status(client, token)
    async with sessions.begin() as session:
        (await session.get(Post, int(status["id"]))).state = PostState.DRAFT
    response = await client.get(f"/api/v1/statuses/{status['id']}{path}", headers=bearer(token))
    assert response.status == 404 and await response.json() == {"error": "Record not found"}


async def test_edit_and_reads_of_an_unknown_or_unreadable_id_are_not_found(client, token):
    for method, path in [("PUT", "/api/v1/statuses/123"), ("PUT", "/api/v1/statuses/abc"),
                         ("GET", "/api/v1/statuses/99999999999999999999/history")]:
        response = await client.request(method, path, headers=bearer(token), data={"status": "x"})
        assert response.status == 404 and await response.json() == {"error": "Record not found"}


async def test_an_edit_without_a_token_is_unauthorized(client, token):
    status = await post_status(client, token)
    response = await client.put(f"/api/v1/statuses/{status['id']}", data={"status": "x"})
    assert response.status == 401


async def test_context_and_lists_of_people_are_empty(client, token):
    status = await post_status(client, token)
    context = await client.get(f"/api/v1/statuses/{status['id']}/context")
    assert await context.json() == {"ancestors": [], "descendants": []}
    for path in ("favourited_by", "reblogged_by"):
        assert await (await client.get(f"/api/v1/statuses/{status['id']}/{path}")).json() == []
