"""Editing a published post of a four-eyes account through the web: the edit waits for a second editor,
and the permalink, the Note, the API status and the feeds keep the approved text until then."""

from __future__ import annotations

import re

from sqlalchemy import select

from bridge.store.models import Job
from support.web import compose_form, editor, post_id_from, visitors  # noqa: F401

AP = {"Accept": "application/activity+json"}
OLD, NEW = "Übung am Samstag um 10 Uhr", "Übung am Sonntag um 10 Uhr"


def sha_on(page) -> str:
    return re.search(r'name="content_sha256" value="([0-9a-f]{64})"', page.text).group(1)


async def published(visitors, sessions):
    """Anna writes for the fire brigade, Bernd approves: the post is public."""
    anna = await editor(visitors, sessions, "anna", actors=("feuerwehr",))
    bernd = await editor(visitors, sessions, "bernd", actors=("feuerwehr",))
    post_id = post_id_from(await anna.post("/editor/compose", compose_form(OLD, actor="feuerwehr")))
    page = await bernd.get(f"/editor/posts/{post_id}")
    assert (await bernd.post(f"/editor/posts/{post_id}/approve", {"content_sha256": sha_on(page)})).status == 303
    return anna, bernd, post_id


async def public_texts(client, post_id: int) -> list[str]:
    """The post as the public gets it: permalink, Note, API status and the three feeds."""
    texts = []
    for path, headers in ((f"/@feuerwehr/{post_id}", {}), (f"/users/feuerwehr/statuses/{post_id}", AP),
                          (f"/api/v1/statuses/{post_id}", {}), ("/@feuerwehr.rss", {}), ("/@feuerwehr.atom", {}),
                          ("/@feuerwehr.json", {})):
        response = await client.get(path, headers=headers)
        assert response.status == 200, path
        texts.append(await response.text())
    return texts


async def update_jobs(sessions, post_id: int) -> int:
    async with sessions() as session:
        jobs = (await session.scalars(select(Job).where(Job.post_id == post_id))).all()
        return sum(1 for j in jobs if j.payload.get("verb") == "update")


async def test_an_edit_waits_for_approval_and_the_public_keeps_the_approved_text(client, visitors, sessions):
    anna, bernd, post_id = await published(visitors, sessions)
    page = await anna.get(f"/editor/posts/{post_id}/edit")
    assert page.has("Your change goes to another editor of this account first")
    page = await anna.post(f"/editor/posts/{post_id}/edit", compose_form(NEW, actor="feuerwehr"))
    assert page.status == 303
    page = await anna.get(f"/editor/posts/{post_id}")
    assert re.search(r'id="post-state">\s*Published\s*–\s*<span id="edit-state">Edit awaiting approval', page.text)
    assert page.has("Another editor of this account must approve this edit.")
    assert "Approve and publish the edit" not in page.text
    for text in await public_texts(client, post_id):
        assert "Samstag" in text and "Sonntag" not in text
    assert await update_jobs(sessions, post_id) == 0
    # Anna's own attempt to approve is refused; the edit form shows her proposal to rework.
    own = await anna.post(f"/editor/posts/{post_id}/approve", {"content_sha256": sha_on(await bernd.get(
        f"/editor/posts/{post_id}"))})
    assert own.status == 409 and own.has("nobody approves their own edit")
    assert f">{NEW}</textarea>" in (await anna.get(f"/editor/posts/{post_id}/edit")).text

    assert (await bernd.get("/editor")).has(NEW)  # in Bernd's queue
    page = await bernd.get(f"/editor/posts/{post_id}")
    assert "<del>Samstag</del><ins>Sonntag</ins>" in page.text  # what changed, word by word
    page = await bernd.post(f"/editor/posts/{post_id}/approve", {"content_sha256": sha_on(page)})
    assert page.status == 303
    for text in await public_texts(client, post_id):
        assert "Sonntag" in text and "Samstag" not in text
    assert await update_jobs(sessions, post_id) == 1
    page = await bernd.get(f"/editor/posts/{post_id}")
    assert page.has("Approved by bernd") and "edit-state" not in page.text


async def test_a_returned_edit_keeps_the_published_text_and_shows_the_comment(client, visitors, sessions):
    anna, bernd, post_id = await published(visitors, sessions)
    await anna.post(f"/editor/posts/{post_id}/edit", compose_form(NEW, actor="feuerwehr"))
    page = await bernd.post(f"/editor/posts/{post_id}/return", {"comment": "Der Sonntag stimmt nicht."})
    assert page.status == 303
    page = await anna.get(f"/editor/posts/{post_id}")
    assert page.has("Edit returned") and page.has("Review comment Der Sonntag stimmt nicht.")
    assert "Approve and publish the edit" not in (await bernd.get(f"/editor/posts/{post_id}")).text
    for text in await public_texts(client, post_id):
        assert "Samstag" in text and "Sonntag" not in text
    assert await update_jobs(sessions, post_id) == 0


async def test_the_waiting_edit_is_shown_in_german(visitors, sessions):
    anna, bernd, post_id = await published(visitors, sessions)
    await anna.post(f"/editor/posts/{post_id}/edit", compose_form(NEW, actor="feuerwehr"))
    await anna.post("/language", {"language": "de"})
    page = await anna.get(f"/editor/posts/{post_id}")
    assert page.has("Änderung wartet auf Freigabe") and "Edit awaiting" not in page.text
