"""The post page: four-eyes approval, return with a comment, edit, delete and pin of posts."""

from __future__ import annotations

import re

from sqlalchemy import select

from bridge.store.models import Post, PostRevision, User
from bridge.publishing.posts import content_sha256
from support.web import compose_form, editor, make_user, post_id_from, signed_in, visitors  # noqa: F401

APPROVE = "Approve and publish"


def sha_on(page) -> str:
    return re.search(r'name="content_sha256" value="([0-9a-f]{64})"', page.text).group(1)


async def load(sessions, post_id: int) -> Post:
    async with sessions() as session:
        return await session.get(Post, post_id)


async def submitted(visitors, sessions):
    """Anna writes for the fire brigade (four-eyes account); Bernd is the second editor."""
    anna = await editor(visitors, sessions, "anna", actors=("feuerwehr",))
    bernd = await editor(visitors, sessions, "bernd", actors=("feuerwehr",))
    post_id = post_id_from(await anna.post("/editor/compose", compose_form("Übung am Samstag", actor="feuerwehr")))
    return anna, bernd, post_id


async def test_the_author_cannot_approve_and_another_editor_can(visitors, sessions):
    anna, bernd, post_id = await submitted(visitors, sessions)
    page = await anna.get(f"/editor/posts/{post_id}")
    assert page.has("Awaiting approval") and APPROVE not in page.text
    assert page.has("Another editor of this account must approve this post.")
    post = await load(sessions, post_id)
    page = await anna.post(f"/editor/posts/{post_id}/approve", {"content_sha256": content_sha256(post)})
    assert page.status == 409 and page.has("nobody approves their own post")
    assert (await bernd.get("/editor")).has("Übung am Samstag")  # in Bernd's queue
    page = await bernd.get(f"/editor/posts/{post_id}")
    assert APPROVE in page.text
    page = await bernd.post(f"/editor/posts/{post_id}/approve", {"content_sha256": sha_on(page)})
    assert page.status == 303
    page = await bernd.get(f"/editor/posts/{post_id}")
    assert re.search(r'id="post-state">\s*Published', page.text) and page.has("Approved by bernd")
    post = await load(sessions, post_id)
    async with sessions() as session:
        bernd_id = await session.scalar(select(User.id).where(User.name == "bernd"))
    assert post.approved_by_id == bernd_id and post.approved_text_sha256 == content_sha256(post)


async def test_approval_of_a_text_that_changed_meanwhile_is_refused(visitors, sessions):
    anna, bernd, post_id = await submitted(visitors, sessions)
    page = await bernd.get(f"/editor/posts/{post_id}")
    seen = sha_on(page)
    await anna.post(f"/editor/posts/{post_id}/edit", compose_form("Übung am Sonntag", actor="feuerwehr"))
    page = await bernd.post(f"/editor/posts/{post_id}/approve", {"content_sha256": seen})
    assert page.status == 409 and page.has("the post changed while you reviewed it; review it again")
    assert (await load(sessions, post_id)).state == "awaiting_approval"


async def test_a_reviewer_returns_a_post_with_a_comment_and_the_author_resubmits(visitors, sessions):
    anna, bernd, post_id = await submitted(visitors, sessions)
    page = await bernd.post(f"/editor/posts/{post_id}/return", {"comment": "  "})
    assert page.status == 422 and page.has("Tell the author what to change")
    page = await bernd.post(f"/editor/posts/{post_id}/return", {"comment": "Bitte die Uhrzeit ergänzen."})
    assert page.status == 303
    page = await anna.get(f"/editor/posts/{post_id}")
    assert page.has("Draft") and page.has("Review comment Bitte die Uhrzeit ergänzen.")
    page = await anna.post(f"/editor/posts/{post_id}/edit", compose_form("Übung am Samstag um 10 Uhr",
                                                                        actor="feuerwehr"))
    assert page.status == 303
    assert (await load(sessions, post_id)).state == "awaiting_approval"


async def test_a_published_post_is_edited_and_its_old_text_kept(visitors, sessions):
    erika = await editor(visitors, sessions, "erika")
    post_id = post_id_from(await erika.post("/editor/compose", compose_form("Rathaus heute zu")))
    page = await erika.get(f"/editor/posts/{post_id}/edit")
    assert ">Rathaus heute zu</textarea>" in page.text and 'name="publish_at"' not in page.text
    page = await erika.post(f"/editor/posts/{post_id}/edit", compose_form("Rathaus heute bis 12 Uhr zu"))
    assert page.status == 303
    page = await erika.get(f"/editor/posts/{post_id}")
    assert page.has("Rathaus heute bis 12 Uhr zu") and page.has("Edited") and page.has("Published")
    async with sessions() as session:
        revisions = (await session.scalars(select(PostRevision).where(PostRevision.post_id == post_id))).all()
    assert [r.text for r in revisions] == ["Rathaus heute zu"]


async def test_an_edit_with_a_problem_comes_back_with_the_new_text(visitors, sessions):
    erika = await editor(visitors, sessions, "erika")
    post_id = post_id_from(await erika.post("/editor/compose", compose_form("Kurz")))
    page = await erika.post(f"/editor/posts/{post_id}/edit", compose_form("x" * 600))
    assert page.status == 422 and page.has("The text has 600 characters")
    assert (await load(sessions, post_id)).text == "Kurz"


async def test_a_published_post_is_deleted_after_confirmation(visitors, sessions):
    erika = await editor(visitors, sessions, "erika")
    post_id = post_id_from(await erika.post("/editor/compose", compose_form("Falsche Meldung")))
    page = await erika.get(f"/editor/posts/{post_id}/delete")
    assert page.has("Delete this post?") and page.has("Yes, delete the post")
    assert (await load(sessions, post_id)).state == "published"  # asking is not deleting
    page = await erika.post(f"/editor/posts/{post_id}/delete")
    assert page.status == 303
    page = await erika.get(f"/editor/posts/{post_id}")
    assert re.search(r'id="post-state">\s*Deleted', page.text)
    assert f"/editor/posts/{post_id}/edit" not in page.text
    assert (await erika.get(f"/editor/posts/{post_id}/edit")).status == 409


async def test_a_published_post_is_pinned_and_unpinned(visitors, sessions):
    erika = await editor(visitors, sessions, "erika")
    post_id = post_id_from(await erika.post("/editor/compose", compose_form("Wichtig")))
    assert (await erika.post(f"/editor/posts/{post_id}/pin", {"pinned": "1"})).status == 303
    assert (await load(sessions, post_id)).pinned
    assert (await erika.get(f"/editor/posts/{post_id}")).has("Unpin")
    await erika.post(f"/editor/posts/{post_id}/pin", {"pinned": "0"})
    assert not (await load(sessions, post_id)).pinned


async def test_posts_of_other_accounts_are_closed_to_an_editor(visitors, sessions):
    erika = await editor(visitors, sessions, "erika", actors=("stadt",))
    anna = await editor(visitors, sessions, "anna", actors=("feuerwehr",))
    post_id = post_id_from(await anna.post("/editor/compose", compose_form("Intern", actor="feuerwehr")))
    assert (await erika.get(f"/editor/posts/{post_id}")).status == 403
    assert (await erika.post(f"/editor/posts/{post_id}/delete")).status == 403
    assert (await erika.get("/editor/posts/999")).status == 404
    assert (await load(sessions, post_id)).state == "awaiting_approval"
