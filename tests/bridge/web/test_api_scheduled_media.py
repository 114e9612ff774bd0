"""/api/v1/scheduled_statuses (list, show, move, delete) and GET/PUT /api/v1/media/:id, over real HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from bridge.publishing.posts import PUBLISH_JOB
from bridge.store.models import Job, Media, Post, PostState
from consent.models import AuditEntry
from support.api import bearer, make_token, media_form, upload


@pytest.fixture
async def token(sessions):
    return await make_token(sessions)


def later(**delta) -> datetime:
    return (datetime.now(timezone.utc) + timedelta(**delta)).replace(microsecond=0)


def iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


async def schedule(client, token, text: str, when: datetime) -> dict:
    response = await client.post("/api/v1/statuses", headers=bearer(token),
                                 json={"status": text, "scheduled_at": when.isoformat()})
    assert response.status == 200, await response.text()
    return await response.json()


async def test_the_list_shows_the_accounts_waiting_posts_newest_first_with_links(client, sessions, token):
    first = await schedule(client, token, "Eins", later(days=1))
    second = await schedule(client, token, "Zwei", later(days=2))
    await client.post("/api/v1/statuses", headers=bearer(token), json={"status": "sofort"})
    other = await make_token(sessions, user="feuerwehr-skript", actors=("feuerwehr",), actor="feuerwehr")
    await schedule(client, other, "Fremd", later(days=1))

    response = await client.get("/api/v1/scheduled_statuses", headers=bearer(token))
    assert response.status == 200
    listed = await response.json()
    assert [s["id"] for s in listed] == [second["id"], first["id"]]
    assert listed[0]["params"]["text"] == "Zwei" and listed[0]["scheduled_at"] == second["scheduled_at"]
    assert response.headers["Link"] == (
        f'<http://stadt.test/api/v1/scheduled_statuses?max_id={first["id"]}>; rel="next", '
        f'<http://stadt.test/api/v1/scheduled_statuses?min_id={second["id"]}>; rel="prev"')

    page = await client.get("/api/v1/scheduled_statuses", params={"limit": "1", "max_id": second["id"]},
                            headers=bearer(token))
    assert [s["id"] for s in await page.json()] == [first["id"]]
    assert "limit=1&max_id=" in page.headers["Link"]
    empty = await client.get("/api/v1/scheduled_statuses", params={"min_id": second["id"]}, headers=bearer(token))
    assert await empty.json() == [] and "Link" not in empty.headers


async def test_show_and_move_a_scheduled_status(client, sessions, token):
    status = await schedule(client, token, "Verschieben", later(days=1))
    shown = await (await client.get(f"/api/v1/scheduled_statuses/{status['id']}", headers=bearer(token))).json()
    assert shown["id"] == status["id"] and shown["params"]["text"] == "Verschieben"

    new_time = later(days=3)
    response = await client.put(f"/api/v1/scheduled_statuses/{status['id']}", headers=bearer(token),
                                data={"scheduled_at": new_time.isoformat()})
    assert response.status == 200, await response.text()
    assert (await response.json())["scheduled_at"] == iso(new_time)
    async with sessions() as session:
        post = await session.get(Post, int(status["id"]))
        jobs = (await session.scalars(select(Job).where(Job.kind == PUBLISH_JOB, Job.post_id == post.id,
                                                          Job.state == "queued"))).all()
        actions = (await session.scalars(select(AuditEntry.action))).all()
    assert post.state == PostState.SCHEDULED and post.scheduled_at == new_time
    assert [j.run_at for j in jobs] == [new_time]  # the old job is cancelled, one new one waits
    assert "post.edited" in actions


async def test_moving_a_post_on_an_approval_account_needs_a_new_approval(client, sessions):
    author = await make_token(sessions, user="wehr-autor", actors=("feuerwehr",), actor="feuerwehr")
    status = await schedule(client, author, "Übung", later(days=1))
    response = await client.put(f"/api/v1/scheduled_statuses/{status['id']}", headers=bearer(author),
                                json={"scheduled_at": later(days=2).isoformat()})
    assert response.status == 200, await response.text()
    async with sessions() as session:
        assert (await session.get(Post, int(status["id"]))).state == PostState.AWAITING_APPROVAL


@pytest.mark.parametrize("fields, status_code, message", [
    ({}, 422, "Validation failed: scheduled_at can't be blank"),
    ({"scheduled_at": "morgen"}, 422, "Validation failed: scheduled_at is not an ISO 8601"),
    ({"scheduled_at": "2020-01-01T00:00:00Z"}, 422, "Validation failed: scheduled_at must be at least 5 minutes"),
    ({"scheduled_at": "2099-01-01T00:00:00Z"}, 422, "Validation failed: the scheduled time may be at most two"),
])
async def test_a_bad_new_time_is_refused_and_the_old_one_stays(client, sessions, token, fields, status_code, message):
    when = later(days=1)
    status = await schedule(client, token, "Bleibt", when)
    response = await client.put(f"/api/v1/scheduled_statuses/{status['id']}", headers=bearer(token), json=fields)
    assert response.status == status_code, await response.text()
    assert (await response.json())["error"].startswith(message)
    async with sessions() as session:
        assert (await session.get(Post, int(status["id"]))).scheduled_at == when


async def test_delete_removes_the_scheduled_status_and_its_job(client, sessions, token):
    status = await schedule(client, token, "Weg", later(days=1))
    response = await client.delete(f"/api/v1/scheduled_statuses/{status['id']}", headers=bearer(token))
    assert response.status == 200 and await response.json() == {}
    async with sessions() as session:
        assert (await session.get(Post, int(status["id"]))).state == PostState.DELETED
        job = await session.scalar(select(Job).where(Job.post_id == int(status["id"]), Job.kind == PUBLISH_JOB))
    assert job.state == "cancelled"
    again = await client.get(f"/api/v1/scheduled_statuses/{status['id']}", headers=bearer(token))
    assert again.status == 404 and await again.json() == {"error": "Record not found"}


async def test_published_foreign_or_unknown_ids_are_not_scheduled_statuses(client, sessions, token):
    published = await (await client.post("/api/v1/statuses", headers=bearer(token), json={"status": "x"})).json()
    other = await make_token(sessions, user="feuerwehr-skript", actors=("feuerwehr",), actor="feuerwehr")
    foreign = await schedule(client, other, "Fremd", later(days=1))
    for method in ("GET", "PUT", "DELETE"):
        for status_id in (published["id"], foreign["id"], "123", "nix"):
            response = await client.request(method, f"/api/v1/scheduled_statuses/{status_id}", headers=bearer(token),
                                            json={"scheduled_at": later(days=2).isoformat()})
            assert response.status == 404 and await response.json() == {"error": "Record not found"}
    async with sessions() as session:
        post = await session.get(Post, int(foreign["id"]))
    assert post.state == PostState.AWAITING_APPROVAL and iso(post.scheduled_at) == foreign["scheduled_at"]


@pytest.mark.parametrize("query", [{"limit": "viele"}, {"max_id": "abc"}, {"min_id": "-1"}])
async def test_unreadable_pagination_is_a_400(client, token, query):
    response = await client.get("/api/v1/scheduled_statuses", params=query, headers=bearer(token))
    assert response.status == 400 and "error" in await response.json()


async def test_the_list_needs_a_token(client):
    assert (await client.get("/api/v1/scheduled_statuses")).status == 401


async def test_an_uploaded_image_can_be_read_and_described_anew_before_it_is_posted(client, sessions, token):
    media = await upload(client, token)
    response = await client.get(f"/api/v1/media/{media['id']}", headers=bearer(token))
    assert response.status == 200 and (await response.json())["description"] == "Rotes Rechteck"
    response = await client.put(f"/api/v1/media/{media['id']}", headers=bearer(token),
                                data={"description": "Ein rotes Viereck", "focus": "0.5,-0.2"})
    assert response.status == 200, await response.text()
    assert (await response.json())["description"] == "Ein rotes Viereck"
    async with sessions() as session:
        assert (await session.get(Media, int(media["id"]))).alt == "Ein rotes Viereck"


async def test_v1_upload_works_like_v2(client, token):
    response = await client.post("/api/v1/media", data=media_form(), headers=bearer(token))
    assert response.status == 200 and (await response.json())["type"] == "image"


@pytest.mark.parametrize("fields, message", [
    ({"description": " "}, "Validation failed: description can't be blank"),
    ({"description": "x" * 1501}, "Validation failed: alt text may have at most 1500 characters"),
    ({"focus": "links"}, "Validation failed: focus must be two numbers"),
    ({"focus": "2,0"}, "Validation failed: focus must be two numbers"),
])
async def test_bad_media_updates_are_refused_and_change_nothing(client, sessions, token, fields, message):
    media = await upload(client, token)
    response = await client.put(f"/api/v1/media/{media['id']}", headers=bearer(token), data=fields)
    assert response.status == 422, await response.text()
    assert (await response.json())["error"].startswith(message)
    async with sessions() as session:
        assert (await session.get(Media, int(media["id"]))).alt == "Rotes Rechteck"


async def test_attached_foreign_or_unknown_media_are_not_found(client, sessions, token):
    attached = await upload(client, token)
    await client.post("/api/v1/statuses", headers=bearer(token), json={"media_ids": [attached["id"]]})
    other = await make_token(sessions, user="feuerwehr-skript", actors=("feuerwehr",), actor="feuerwehr")
    foreign = await upload(client, other)
    for media_id in (attached["id"], foreign["id"], "42", "bild"):
        for method in ("GET", "PUT"):
            response = await client.request(method, f"/api/v1/media/{media_id}", headers=bearer(token),
                                            data={"description": "neu"})
            assert response.status == 404 and await response.json() == {"error": "Record not found"}
