"""Sign-in, sessions, throttling, the forced password change, CSRF and role guards, as a browser sees them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from yarl import URL

from bridge.app import create_app
from bridge.appkeys import SESSIONS
from bridge.store.db import utcnow
from bridge.store.models import User, WebSession
from support.web import CSRF, admin_ready, compose_form, count_posts, make_user, sign_in, signed_in, visitors  # noqa: F401


async def test_an_admin_signs_in_and_sees_the_dashboard(visitors, sessions, booted):
    await admin_ready(sessions)
    browser = visitors()
    page = await sign_in(browser, "admin", booted.admin_password)
    assert (page.status, page.location) == (303, "/editor")
    page = await browser.get("/editor")
    assert page.status == 200 and page.has("Dashboard") and page.has("Signed in as admin")


async def test_wrong_password_and_unknown_user_get_the_same_message_and_no_cookie(visitors, booted):
    browser = visitors()
    wrong = await sign_in(browser, "admin", "not the password")
    unknown = await sign_in(browser, "nobody", "not the password")
    for page in (wrong, unknown):
        assert page.status == 401
        assert page.has("The user name or the password is wrong.")
        assert not page.set_cookies
    assert 'value="nobody"' in unknown.text  # the typed name stays in the form


async def test_a_disabled_user_cannot_sign_in(visitors, sessions, booted):
    _, password = await make_user(sessions, "erika")
    admin = await signed_in(visitors(), sessions, await admin_ready(sessions))
    user_id = (await _user_ids(sessions))["erika"]
    assert (await admin.post(f"/admin/users/{user_id}/disable")).status == 303
    page = await sign_in(visitors(), "erika", password)
    assert page.status == 403 and page.has("This user is disabled. Ask an administrator.")


async def test_disabling_a_user_ends_their_open_session_at_once(visitors, sessions, booted):
    user_id, _ = await make_user(sessions, "erika")
    erika = await signed_in(visitors(), sessions, user_id)
    assert (await erika.get("/editor")).status == 200
    admin = await signed_in(visitors(), sessions, await admin_ready(sessions))
    page = await admin.post(f"/admin/users/{user_id}/disable")
    assert page.status == 303
    assert (await admin.get(page.location)).has("The user was disabled and signed out everywhere.")
    page = await erika.get("/editor")
    assert page.status == 303 and page.location.startswith("/signin")


async def test_five_failures_block_that_client_at_that_account_even_for_the_right_password(visitors, booted):
    browser = visitors()
    for _ in range(5):
        assert (await sign_in(browser, "admin", "wrong password!")).status == 401
    page = await sign_in(browser, "admin", booted.admin_password)
    assert page.status == 429
    assert page.headers["Retry-After"] == "900"
    assert page.has("Too many failed sign-ins. Wait 15 minutes and try again, or ask an administrator to lift the block.")


async def test_many_failures_from_one_client_block_that_client_for_every_account(visitors, booted):
    browser = visitors()
    for i in range(20):  # different names, so no single account reaches its own limit
        await sign_in(browser, f"guess{i // 4}", "wrong password!")
    page = await sign_in(browser, "admin", booted.admin_password)
    assert page.status == 429 and page.has("Too many failed sign-ins.")


async def test_the_first_sign_in_forces_a_new_password_before_anything_else(visitors, booted):
    browser = visitors()
    page = await sign_in(browser, "admin", booted.admin_password)
    assert (page.status, page.location) == (303, "/password")
    for path in ("/editor", "/admin/users", "/editor/compose"):
        page = await browser.get(path)
        assert (page.status, page.location) == (303, f"/password?next={path}"), path
    page = await browser.get("/password")
    assert page.has("You signed in with a one-time password. Choose your own password to continue.")
    page = await browser.post("/password", {"current": booted.admin_password, "new": "short", "repeat": "short"})
    assert page.status == 422 and page.has("the password needs at least 12 characters")
    page = await browser.post("/password", {"current": "wrong", "new": "a good new password", "repeat": "a good new password"})
    assert page.status == 422 and page.has("the current password is wrong")
    page = await browser.post("/password", {"current": booted.admin_password, "new": "a good new password",
                                            "repeat": "a good new password"})
    assert (page.status, page.location) == (303, "/editor")
    assert (await browser.get("/editor")).status == 200
    assert (await sign_in(visitors(), "admin", "a good new password")).location == "/editor"


async def test_after_the_forced_password_change_the_person_goes_where_they_were_going(visitors, booted):
    """An editor's first sign-in often starts in an app: the consent page must come back after the new password."""
    wanted = "/oauth/authorize?client_id=abc&response_type=code"
    browser = visitors()
    page = await sign_in(browser, "admin", booted.admin_password, next_path=wanted)
    assert page.status == 303 and page.location.startswith("/password?next=")
    form = await browser.get(page.location)
    assert 'name="next"' in form.text and "/oauth/authorize" in form.text
    page = await browser.post(page.location, {"current": booted.admin_password, "new": "short", "repeat": "short",
                                              "next": wanted})
    assert page.status == 422 and "/oauth/authorize" in page.text, "a mistake keeps the way back"
    page = await browser.post("/password", {"current": booted.admin_password, "new": "a good new password",
                                            "repeat": "a good new password", "next": wanted})
    assert (page.status, page.location) == (303, wanted)


async def test_the_way_back_after_the_password_change_stays_on_this_site(visitors, booted):
    browser = visitors()
    await sign_in(browser, "admin", booted.admin_password)
    await browser.get("/password")
    page = await browser.post("/password", {"current": booted.admin_password, "new": "a good new password",
                                            "repeat": "a good new password", "next": "//evil.example/x"})
    assert (page.status, page.location) == (303, "/editor")


async def test_signing_in_rotates_the_session_cookie(visitors, sessions, booted):
    await admin_ready(sessions)
    browser = visitors()
    await sign_in(browser, "admin", booted.admin_password)
    first = browser.cookie()
    await browser.get("/editor")  # signed in: the form token is now the session's
    page = await browser.post("/signin", {"name": "admin", "password": booted.admin_password})
    assert page.status == 303
    second = browser.cookie()
    assert first and second and first != second
    stale = visitors()
    stale.session.cookie_jar.update_cookies({"stadtbote": first}, stale.url("/"))
    page = await stale.get("/editor")
    assert page.status == 303 and page.location.startswith("/signin")


async def test_an_idle_session_ends(visitors, sessions, booted):
    browser = await signed_in(visitors(), sessions, await admin_ready(sessions))
    async with sessions.begin() as session:
        await session.execute(update(WebSession).values(last_seen_at=utcnow() - timedelta(minutes=61)))
    page = await browser.get("/editor")
    assert (page.status, page.location) == (303, "/signin?next=/editor")


async def test_the_session_cookie_is_httponly_and_strict(visitors, sessions, booted):
    await admin_ready(sessions)
    page = await sign_in(visitors(), "admin", booted.admin_password)
    [cookie] = page.set_cookies
    assert cookie.startswith("stadtbote=")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie


async def test_the_session_cookie_is_secure_when_the_site_is_https(aiohttp_client, make_config, booted):
    client = await aiohttp_client(create_app(make_config(instance={"base_url": "https://stadt.test"}),
                                             run_worker=False))
    await admin_ready(client.app[SESSIONS])
    signin = await client.get("/signin")
    csrf = CSRF.search(await signin.text()).group(1)
    response = await client.post("/signin", data={"name": "admin", "password": booted.admin_password, "csrf": csrf},
                                 allow_redirects=False)
    assert response.status == 303
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-stadtbote=")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie


async def test_anonymous_visitors_are_sent_to_sign_in_and_back(visitors, sessions, booted):
    await admin_ready(sessions)
    browser = visitors()
    page = await browser.get("/editor/actors/stadt?state=draft")
    assert page.status == 303
    assert URL(page.location).path == "/signin"
    assert URL(page.location).query["next"] == "/editor/actors/stadt?state=draft"
    page = await sign_in(browser, "admin", booted.admin_password, next_path="/editor/actors/stadt?state=draft")
    assert page.location == "/editor/actors/stadt?state=draft"


async def test_a_next_target_on_another_site_is_ignored(visitors, sessions, booted):
    await admin_ready(sessions)
    page = await sign_in(visitors(), "admin", booted.admin_password, next_path="//evil.example/")
    assert page.location == "/editor"


async def test_forms_without_or_with_a_wrong_csrf_token_are_refused_and_store_nothing(visitors, sessions, booted):
    browser = await signed_in(visitors(), sessions, await admin_ready(sessions))
    page = await browser.post("/editor/compose", compose_form("Ohne Token"), csrf=False)
    assert page.status == 403
    assert page.has("The form expired or did not come from this site.")
    data = compose_form("Falsches Token")
    data.add_field("csrf", "forged")
    assert (await browser.post("/editor/compose", data, csrf=False)).status == 403
    assert await count_posts(sessions) == 0
    anonymous = visitors()
    page = await anonymous.post("/signin", {"name": "admin", "password": booted.admin_password}, csrf=False)
    assert page.status == 403 and not page.set_cookies


async def test_signing_out_ends_the_session(visitors, sessions, booted):
    browser = await signed_in(visitors(), sessions, await admin_ready(sessions))
    page = await browser.post("/signout")
    assert (page.status, page.location) == (303, "/signin")
    assert (await browser.get("/editor")).status == 303


async def test_a_dpo_sees_the_data_protection_page_and_no_editor_pages(visitors, sessions, booted):
    _, password = await make_user(sessions, "dsb", role="dpo", actors=())
    dpo = visitors()
    assert (await sign_in(dpo, "dsb", password)).location == "/dpo"
    page = await dpo.get("/dpo")
    assert page.status == 200 and page.has("Audit log") and page.has("Record of processing activities")
    for path in ("/editor", "/editor/compose", "/admin/users", "/admin/tokens"):
        page = await dpo.get(path)
        assert page.status == 403 and page.has("Your role does not allow this page."), path


async def test_an_editor_cannot_open_the_administration(visitors, sessions, booted):
    user_id, _ = await make_user(sessions, "erika")
    erika = await signed_in(visitors(), sessions, user_id)
    assert (await erika.get("/admin/users")).status == 403
    assert (await erika.post("/admin/users", {"name": "mallory", "role": "admin"})).status == 403


async def _user_ids(sessions) -> dict[str, int]:
    async with sessions() as session:
        return {u.name: u.id for u in (await session.scalars(select(User))).all()}
