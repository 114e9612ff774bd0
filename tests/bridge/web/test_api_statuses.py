"""POST/GET/DELETE /api/v1/statuses over real HTTP against a real database."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone

import pytest
from aiohttp import FormData
from support.api import bearer, make_token, upload
from sqlalchemy import func, select

from bridge.store.models import Job, Post, PostState
from bridge.publishing.posts import PUBLISH_JOB


@pytest.fixture
async def token(sessions):
    return await make_token(sessions)


async def count_posts(sessions) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count(Post.id)))


async def test_a_form_encoded_status_is_published_and_returned_as_a_status(client, token):
    response = await client.post("/api/v1/statuses", data={"status": "Hallo #Stadt", "language": "de"},
                                 headers=bearer(token))
    assert response.status == 200, await response.text()
    status = await response.json()
    assert status["visibility"] == "public" and status["language"] == "de"
    assert status["url"] == f"http://stadt.test/@stadt/{status['id']}"
    assert status["uri"] == f"http://stadt.test/users/stadt/statuses/{status['id']}"
    assert '<a href="http://stadt.test/tags/Stadt"' in status["content"]
    assert status["tags"] == [{"name": "stadt", "url": "http://stadt.test/tags/stadt"}]
    assert status["account"]["username"] == "stadt" and status["account"]["statuses_count"] == 1
    assert status["stadtbote"] == {"state": "published"}
    assert "Set-Cookie" not in response.headers


async def test_a_json_status_with_spoiler_text_is_sensitive(client, token):
    response = await client.post("/api/v1/statuses", headers=bearer(token),
                                 json={"status": "Details", "spoiler_text": "Baustelle", "visibility": "public"})
    assert response.status == 200, await response.text()
    status = await response.json()
    assert status["spoiler_text"] == "Baustelle" and status["sensitive"] is True


async def test_a_status_with_an_uploaded_image_carries_it_as_an_attachment(client, token):
    media = await upload(client, token)
    response = await client.post("/api/v1/statuses", headers=bearer(token),
                                 data=[("status", "Mit Bild"), ("media_ids[]", media["id"])])
    assert response.status == 200, await response.text()
    attachments = (await response.json())["media_attachments"]
    assert [a["id"] for a in attachments] == [media["id"]]
    assert attachments[0]["description"] == "Rotes Rechteck"


async def test_media_ids_as_a_json_array_work_without_text(client, token):
    media = await upload(client, token)
    response = await client.post("/api/v1/statuses", headers=bearer(token), json={"media_ids": [media["id"]]})
    assert response.status == 200, await response.text()
    assert len((await response.json())["media_attachments"]) == 1


@pytest.mark.parametrize("media_ids", [["123456789"], ["kein-bild"]])
async def test_an_unknown_media_id_is_a_validation_error(client, token, media_ids):
    response = await client.post("/api/v1/statuses", headers=bearer(token),
                                 json={"status": "x", "media_ids": media_ids})
    assert response.status == 422
    assert (await response.json())["error"].startswith("Validation failed: an attached image does not exist")


async def test_media_of_another_account_cannot_be_attached(client, sessions, token):
    other = await make_token(sessions, user="feuerwehr-skript", actors=("feuerwehr",), actor="feuerwehr")
    media = await upload(client, other)
    response = await client.post("/api/v1/statuses", headers=bearer(token),
                                 json={"status": "fremd", "media_ids": [media["id"]]})
    assert response.status == 422
    assert await count_posts(sessions) == 0


async def test_a_text_over_the_limit_is_rejected_with_the_reason(client, token):
    response = await client.post("/api/v1/statuses", headers=bearer(token), json={"status": "a" * 501})
    assert response.status == 422
    body = await response.json()
    assert body["error"] == "Validation failed: the text is longer than allowed"  # as before: Mastodon's shape
    assert body["details"] == {"status": [{"error": "too_long", "description": "the text is longer than allowed"}]}


async def test_an_empty_status_is_rejected(client, token):
    response = await client.post("/api/v1/statuses", headers=bearer(token), data={"status": "  "})
    assert response.status == 422


@pytest.mark.parametrize("visibility", ["unlisted", "private", "direct"])
async def test_a_visibility_other_than_public_is_refused_with_an_explanation(client, sessions, token,
                                                                            visibility):
    response = await client.post("/api/v1/statuses", headers=bearer(token),
                                 data={"status": "geheim", "visibility": visibility})
    assert response.status == 422
    assert "public posts only" in (await response.json())["error"]
    assert await count_posts(sessions) == 0


@pytest.mark.parametrize("extra", [{"in_reply_to_id": "1"}, {"poll[options][]": "ja"},
                                   {"sensitive": "true"}])
async def test_features_stadtbote_cannot_honour_are_refused_rather_than_ignored(client, token, extra):
    response = await client.post("/api/v1/statuses", headers=bearer(token), data={"status": "x", **extra})
    assert response.status == 422


@pytest.mark.parametrize("body", ["{nicht json", "[1, 2]", '"text"'])
async def test_a_malformed_json_body_is_a_client_error_not_a_crash(client, token, body):
    response = await client.post("/api/v1/statuses", data=body,
                                 headers={**bearer(token), "Content-Type": "application/json"})
    assert response.status == 400
    assert "error" in await response.json()


async def test_scheduled_at_returns_a_scheduled_status_and_queues_the_job(client, sessions, token):
    when = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(hours=2)
    response = await client.post("/api/v1/statuses", headers=bearer(token),
                                 data={"status": "Später", "scheduled_at": when.isoformat()})
    assert response.status == 200, await response.text()
    scheduled = await response.json()
    assert scheduled["scheduled_at"] == when.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert scheduled["params"]["text"] == "Später" and scheduled["params"]["visibility"] == "public"
    assert scheduled["media_attachments"] == []
    async with sessions() as session:
        post = await session.get(Post, int(scheduled["id"]))
        job = await session.scalar(select(Job).where(Job.post_id == post.id))
    assert post.state == PostState.SCHEDULED
    assert job.kind == PUBLISH_JOB and job.run_at == when


async def test_a_time_with_a_z_suffix_is_understood(client, token):
    when = (datetime.now(timezone.utc) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    response = await client.post("/api/v1/statuses", headers=bearer(token),
                                 json={"status": "Morgen", "scheduled_at": when})
    assert response.status == 200, await response.text()
    assert "scheduled_at" in await response.json()


@pytest.mark.parametrize("offset", [timedelta(minutes=4), timedelta(minutes=-10)])
async def test_a_schedule_less_than_five_minutes_ahead_is_refused(client, sessions, token, offset):
    when = datetime.now(timezone.utc) + offset
    response = await client.post("/api/v1/statuses", headers=bearer(token),
                                 data={"status": "Gleich", "scheduled_at": when.isoformat()})
    assert response.status == 422
    assert "at least 5 minutes" in (await response.json())["error"]
    assert await count_posts(sessions) == 0


async def test_an_unreadable_scheduled_at_is_refused(client, token):
    response = await client.post("/api/v1/statuses", headers=bearer(token),
                                 data={"status": "x", "scheduled_at": "nächsten Dienstag"})
    assert response.status == 422


async def test_the_same_idempotency_key_returns_the_same_status_and_creates_nothing(client, sessions, token):
    headers = {**bearer(token), "Idempotency-Key": "abc-123"}
    first = await (await client.post("/api/v1/statuses", headers=headers, data={"status": "Einmal"})).json()
    again = await client.post("/api/v1/statuses", headers=headers, data={"status": "Einmal"})
    assert again.status == 200
    assert (await again.json())["id"] == first["id"]
    assert await count_posts(sessions) == 1


async def test_a_different_idempotency_key_makes_a_new_status(client, sessions, token):
    for key in ("eins", "zwei"):
        response = await client.post("/api/v1/statuses", headers={**bearer(token), "Idempotency-Key": key},
                                     data={"status": "Zweimal"})
        assert response.status == 200
    assert await count_posts(sessions) == 2


async def test_the_same_key_from_another_token_makes_a_new_status(client, sessions, token):
    second = await make_token(sessions, user="zweites-skript")
    ids = set()
    for secret in (token, second):
        response = await client.post("/api/v1/statuses", headers={**bearer(secret), "Idempotency-Key": "k"},
                                     data={"status": "Zwei Skripte"})
        ids.add((await response.json())["id"])
    assert len(ids) == 2 and await count_posts(sessions) == 2


async def test_an_idempotency_key_older_than_an_hour_no_longer_matches(client, sessions, token):
    from bridge.store.models import IdempotencyKey
    headers = {**bearer(token), "Idempotency-Key": "alt"}
    await client.post("/api/v1/statuses", headers=headers, data={"status": "Früher"})
    async with sessions.begin() as session:
        row = await session.scalar(select(IdempotencyKey))
        row.created_at = datetime.now(timezone.utc) - timedelta(minutes=61)
    response = await client.post("/api/v1/statuses", headers=headers, data={"status": "Früher"})
    assert response.status == 200
    assert await count_posts(sessions) == 2


async def test_a_scheduled_status_repeated_with_its_key_returns_the_scheduled_status(client, sessions, token):
    when = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    headers = {**bearer(token), "Idempotency-Key": "plan"}
    first = await (await client.post("/api/v1/statuses", headers=headers,
                                     data={"status": "Plan", "scheduled_at": when})).json()
    again = await (await client.post("/api/v1/statuses", headers=headers,
                                     data={"status": "Plan", "scheduled_at": when})).json()
    assert again["id"] == first["id"] and again["params"]["idempotency"] == "plan"


async def test_get_returns_own_and_public_statuses(client, sessions, token):
    created = await (await client.post("/api/v1/statuses", headers=bearer(token), data={"status": "Hi"})).json()
    other = await make_token(sessions, user="feuerwehr-skript", actors=("feuerwehr",), actor="feuerwehr")
    for headers in (bearer(token), bearer(other), {}):
        response = await client.get(f"/api/v1/statuses/{created['id']}", headers=headers)
        assert response.status == 200
        assert (await response.json())["content"] == "<p>Hi</p>"


@pytest.mark.parametrize("status_id", ["999", "abc", "1" * 30])
async def test_get_of_a_missing_status_is_record_not_found(client, token, status_id):
    response = await client.get(f"/api/v1/statuses/{status_id}", headers=bearer(token))
    assert response.status == 404
    assert await response.json() == {"error": "Record not found"}


async def test_a_scheduled_status_is_visible_to_its_account_only(client, sessions, token):
    when = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    created = await (await client.post("/api/v1/statuses", headers=bearer(token),
                                       data={"status": "Bald", "scheduled_at": when})).json()
    other = await make_token(sessions, user="feuerwehr-skript", actors=("feuerwehr",), actor="feuerwehr")
    assert (await client.get(f"/api/v1/statuses/{created['id']}", headers=bearer(other))).status == 404
    assert (await client.get(f"/api/v1/statuses/{created['id']}")).status == 404
    own = await client.get(f"/api/v1/statuses/{created['id']}", headers=bearer(token))
    assert own.status == 200
    assert (await own.json())["stadtbote"] == {"state": "scheduled"}


async def test_get_with_an_invalid_token_is_refused_even_for_public_statuses(client, token):
    created = await (await client.post("/api/v1/statuses", headers=bearer(token), data={"status": "Hi"})).json()
    response = await client.get(f"/api/v1/statuses/{created['id']}", headers=bearer("falsch"))
    assert response.status == 401


async def test_delete_returns_the_source_text_and_the_status_is_gone(client, token):
    created = await (await client.post("/api/v1/statuses", headers=bearer(token),
                                       data={"status": "Weg #damit"})).json()
    response = await client.delete(f"/api/v1/statuses/{created['id']}", headers=bearer(token))
    assert response.status == 200
    deleted = await response.json()
    assert deleted["id"] == created["id"] and deleted["text"] == "Weg #damit" and "content" not in deleted
    assert (await client.get(f"/api/v1/statuses/{created['id']}", headers=bearer(token))).status == 404
    assert (await client.delete(f"/api/v1/statuses/{created['id']}", headers=bearer(token))).status == 404


async def test_delete_of_a_scheduled_status_cancels_its_job(client, sessions, token):
    when = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    created = await (await client.post("/api/v1/statuses", headers=bearer(token),
                                       data={"status": "Abgesagt", "scheduled_at": when})).json()
    response = await client.delete(f"/api/v1/statuses/{created['id']}", headers=bearer(token))
    assert response.status == 200
    async with sessions() as session:
        job = await session.scalar(select(Job).where(Job.post_id == int(created["id"])))
    assert job.state == "cancelled"


async def test_delete_of_another_accounts_status_is_not_found(client, sessions, token):
    created = await (await client.post("/api/v1/statuses", headers=bearer(token), data={"status": "Meins"})).json()
    other = await make_token(sessions, user="feuerwehr-skript", actors=("feuerwehr",), actor="feuerwehr")
    response = await client.delete(f"/api/v1/statuses/{created['id']}", headers=bearer(other))
    assert response.status == 404
    async with sessions() as session:
        assert (await session.get(Post, int(created["id"]))).state == PostState.PUBLISHED


async def test_delete_without_a_token_is_unauthorized(client, token):
    created = await (await client.post("/api/v1/statuses", headers=bearer(token), data={"status": "Meins"})).json()
    assert (await client.delete(f"/api/v1/statuses/{created['id']}")).status == 401


async def test_a_post_for_an_account_with_approval_waits_and_is_not_public(client, sessions):
    author = await make_token(sessions, user="wehr-autor", actors=("feuerwehr",), actor="feuerwehr")
    response = await client.post("/api/v1/statuses", headers=bearer(author), data={"status": "Einsatz"})
    assert response.status == 200, await response.text()
    status = await response.json()
    assert status["stadtbote"] == {"state": "awaiting_approval"} and status["url"] is None
    colleague = await make_token(sessions, user="stadt-skript")
    assert (await client.get(f"/api/v1/statuses/{status['id']}", headers=bearer(colleague))).status == 404
    assert (await client.get(f"/api/v1/statuses/{status['id']}")).status == 404
    assert (await client.get(f"/api/v1/statuses/{status['id']}", headers=bearer(author))).status == 200


async def test_a_scheduled_post_awaiting_approval_is_answered_as_a_scheduled_status(client, sessions):
    author = await make_token(sessions, user="wehr-autor", actors=("feuerwehr",), actor="feuerwehr")
    when = (datetime.now(timezone.utc) + timedelta(hours=3)).isoformat()
    response = await client.post("/api/v1/statuses", headers=bearer(author),
                                 data={"status": "Übung", "scheduled_at": when})
    body = await response.json()
    assert response.status == 200 and "params" in body
    async with sessions() as session:
        assert (await session.get(Post, int(body["id"]))).state == PostState.AWAITING_APPROVAL


async def test_query_string_parameters_are_accepted_like_mastodon(client, token):
    response = await client.post("/api/v1/statuses?status=Per%20Query", headers=bearer(token))
    assert response.status == 200, await response.text()
    assert json.loads(await response.text())["content"] == "<p>Per Query</p>"


async def test_two_simultaneous_requests_with_one_key_make_one_post(client, sessions, token):
    headers = {**bearer(token), "Idempotency-Key": "gleichzeitig"}
    responses = await asyncio.gather(*(client.post("/api/v1/statuses", headers=headers,
                                                   data={"status": "Parallel"}) for _ in range(3)))
    assert [r.status for r in responses] == [200, 200, 200]
    assert len({(await r.json())["id"] for r in responses}) == 1
    assert await count_posts(sessions) == 1


async def test_a_file_sent_as_the_status_text_is_not_taken_for_text(client, sessions, token):
    form = FormData()
    form.add_field("status", b"binary", filename="text.bin", content_type="application/octet-stream")
    response = await client.post("/api/v1/statuses", data=form, headers=bearer(token))
    assert response.status == 422
    assert await count_posts(sessions) == 0


async def test_a_retry_is_answered_from_its_key_before_its_parameters_are_checked(client, sessions, token):
    headers = {**bearer(token), "Idempotency-Key": "wiederholt"}
    first = await (await client.post("/api/v1/statuses", headers=headers, data={"status": "Erst"})).json()
    retry = await client.post("/api/v1/statuses", headers=headers, data={"status": "x" * 600})
    assert retry.status == 200 and (await retry.json())["id"] == first["id"]
