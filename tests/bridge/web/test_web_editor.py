"""The dashboard and the post list per account: states, filter, paging."""

from __future__ import annotations

from sqlalchemy import select

from bridge.config.model import Config
from bridge.store.models import Post, User
from bridge.publishing.posts import Draft, create_post, delete_post
from support.web import editor, make_user, signed_in, visitors  # noqa: F401


async def write_posts(sessions, config: Config, user_name: str, count: int) -> list[int]:
    """Posts made through the service directly: the list is under test here, not the form."""
    async with sessions.begin() as session:
        user = await session.scalar(select(User).where(User.name == user_name))
        ids = []
        for i in range(count):
            result = await create_post(session, config, user, Draft(actor="stadt", text=f"Meldung {i:02d}"))
            ids.append(result.post.id)
        return ids


async def test_the_dashboard_lists_only_the_editors_accounts(visitors, sessions):
    erika = await editor(visitors, sessions, "erika", actors=("feuerwehr",))
    page = await erika.get("/editor")
    assert page.has("Feuerwehr @feuerwehr") and page.has("Four-eyes approval")
    assert "/editor/actors/stadt" not in page.text
    assert (await erika.get("/editor/actors/stadt")).status == 403
    assert (await erika.get("/editor/actors/nirgends")).status == 404


async def test_an_editor_without_accounts_is_told_so(visitors, sessions):
    nobody = await editor(visitors, sessions, "neu", actors=())
    assert (await nobody.get("/editor")).has("You have no accounts yet.")


async def test_the_post_list_filters_by_state_and_pages(visitors, sessions, config):
    erika = await editor(visitors, sessions, "erika")
    ids = await write_posts(sessions, config, "erika", 27)
    async with sessions.begin() as session:
        user = await session.get(User, (await session.get(Post, ids[0])).author_id)
        await delete_post(session, user, await session.get(Post, ids[0]))
    page = await erika.get("/editor/actors/stadt")
    assert page.status == 200 and page.has("Posts of Stadt Teststadt")
    assert page.has("Meldung 26") and not page.has("Meldung 01")  # newest first, 25 a page
    older = f"before={ids[2]}"
    assert older in page.text
    page = await erika.get(f"/editor/actors/stadt?{older}")
    assert page.has("Meldung 01") and page.has("Meldung 00") and page.has("Newest posts")
    page = await erika.get("/editor/actors/stadt?state=deleted")
    assert page.has("Posts in state: Deleted") and page.has("Meldung 00") and not page.has("Meldung 01")
    page = await erika.get("/editor/actors/stadt?state=scheduled")
    assert page.has("No posts here yet.")
    for state in ("Draft", "Awaiting approval", "Scheduled", "Published", "Failed", "Deleted"):
        assert f">{state}</option>" in page.text
