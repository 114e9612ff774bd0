"""`PATCH /api/v1/accounts/update_credentials` (issue 20): an app changes the profile of the account its token
acts as with the admin form's rules and path — checked, audited, told to followers' servers by an `Update` —
and only an admin's token may, as only admins reach the form in the browser."""

from __future__ import annotations

import io

import pytest
from aiohttp import FormData
from PIL import Image
from sqlalchemy import select
from yarl import URL

from bridge.appkeys import CONFIG, SESSIONS
from bridge.auth.users import find_user
from bridge.publishing import profiles
from consent.audit import AuditEntry
from fakes.fediverse import mastodon_follow
from support.api import bearer, bomb_png, make_token, png_bytes, scoped_token
from support.inbox import CITY, instances, network, run_jobs, stadt  # noqa: F401  (fixtures)

UPDATE = "/api/v1/accounts/update_credentials"
VERIFY = "/api/v1/accounts/verify_credentials"


@pytest.fixture
async def admin_token(stadt):
    return await make_token(stadt.app[SESSIONS], user="admin")


def picture(name: str, raw: bytes, **fields: str) -> FormData:
    form = FormData(list(fields.items()))
    form.add_field(name, raw, filename="bild.png", content_type="image/png")
    return form


async def audit(stadt, action: str) -> list[AuditEntry]:
    async with stadt.app[SESSIONS]() as session:
        return list((await session.scalars(select(AuditEntry).where(AuditEntry.action == action))).all())


async def test_multipart_with_an_avatar_changes_the_profile_and_answers_the_credential_account(stadt, admin_token):
    form = picture("avatar", png_bytes(1200, 800), display_name="Stadt Teststadt (Presse)",
                   note="Nachrichten aus dem Rathaus.", **{
                       "fields_attributes[0][name]": "Telefon", "fields_attributes[0][value]": "0123 456",
                       "fields_attributes[1][name]": "Website", "fields_attributes[1][value]": "https://stadt.example"})
    response = await stadt.patch(UPDATE, data=form, headers=bearer(admin_token))
    assert response.status == 200, await response.text()
    me = await response.json()
    assert me["display_name"] == "Stadt Teststadt (Presse)" and me["source"]["note"] == "Nachrichten aus dem Rathaus."
    assert [(f["name"], f["value"]) for f in me["source"]["fields"]] == [
        ("Telefon", "0123 456"), ("Website", "https://stadt.example")]
    avatar = await stadt.get(URL(me["avatar"]).path_qs)
    assert avatar.status == 200 and Image.open(io.BytesIO(await avatar.read())).size == (400, 267)
    again = await (await stadt.get(VERIFY, headers=bearer(admin_token))).json()
    assert again["display_name"] == "Stadt Teststadt (Presse)" and again["avatar"] == me["avatar"]
    entries = await audit(stadt, "actor.updated")
    assert len(entries) == 1 and entries[0].subject_ref == "actor:stadt"
    assert {"display_name", "summary", "fields", "avatar_file"} <= set(entries[0].details["changed"])
    assert entries[0].details["via"].startswith("token:") and entries[0].actor_ref.startswith("user:")
    public = await (await stadt.get("/users/stadt", headers={"Accept": "application/activity+json"})).json()
    assert public["name"] == "Stadt Teststadt (Presse)"


async def test_a_json_body_changes_only_what_it_sends(stadt, admin_token):
    before = await (await stadt.get(VERIFY, headers=bearer(admin_token))).json()
    other = "de" if before["source"]["language"] == "en" else "en"
    body = {"note": "Neue Beschreibung", "locked": False, "bot": before["bot"], "source": {"language": other},
            "fields_attributes": [{"name": "Sprechzeiten", "value": "Mo–Fr 8–12 Uhr"}]}
    response = await stadt.patch(UPDATE, json=body, headers=bearer(admin_token))
    assert response.status == 200, await response.text()
    me = await response.json()
    assert me["display_name"] == before["display_name"] and me["note"].count("Neue Beschreibung") == 1
    assert me["source"]["language"] == other
    assert me["fields"][0]["name"] == "Sprechzeiten"
    indexed = {"fields_attributes": {"0": {"name": "Telefon", "value": "0123"}}}
    me = await (await stadt.patch(UPDATE, json=indexed, headers=bearer(admin_token))).json()
    assert [(f["name"], f["value"]) for f in me["source"]["fields"]] == [("Telefon", "0123")]


@pytest.mark.parametrize("kind", ["avatar", "header"])
async def test_bad_pictures_and_values_are_refused_with_a_reason_and_nothing_changes(stadt, admin_token, kind):
    before = await (await stadt.get(VERIFY, headers=bearer(admin_token))).json()
    limit = stadt.app[CONFIG].limits.max_image_bytes
    cases = [(b"%PDF-1.4 not an image", "broken_image"), (b"\x89PNG" + b"\0" * limit, "too_large"),
             (bomb_png(9000, 9000), "too_many_pixels")]
    for raw, reason in cases:
        response = await stadt.patch(UPDATE, data=picture(kind, raw, display_name="Geändert"),
                                     headers=bearer(admin_token))
        assert response.status == 422, reason
        body = await response.json()
        assert body["error"].startswith("Validation failed: ") and body["reason"] == reason
        assert body["details"][kind][0]["error"] == reason
    for sent, reason, parameter in (({"display_name": ""}, "display_name_missing", "display_name"),
                                    ({"note": "x" * 501}, "bio_too_long", "note"),
                                    ({"source[language]": "xx"}, "language_invalid", "source[language]")):
        body = await (await stadt.patch(UPDATE, data=sent, headers=bearer(admin_token))).json()
        assert body["reason"] == reason and parameter in body["details"]
    five = {f"fields_attributes[{i}][{k}]": f"{k}{i}" for i in range(5) for k in ("name", "value")}
    response = await stadt.patch(UPDATE, data=five, headers=bearer(admin_token))
    assert response.status == 422 and (await response.json())["reason"] == "fields_too_many"
    for setting in ({"locked": "true"}, {"bot": "maybe"}, {"source[privacy]": "private"},
                    {"hide_collections": "false"}):  # the lists of people are never shown
        response = await stadt.patch(UPDATE, data=setting, headers=bearer(admin_token))
        assert response.status == 422 and (await response.json())["reason"] == "setting_not_offered"
    assert await (await stadt.get(VERIFY, headers=bearer(admin_token))).json() == before
    assert await audit(stadt, "actor.updated") == []


async def test_an_editors_token_is_refused_as_the_admin_form_refuses_editors(stadt):
    token = await make_token(stadt.app[SESSIONS])  # an editor of "stadt", all scopes
    response = await stadt.patch(UPDATE, data={"display_name": "Übernommen"}, headers=bearer(token))
    assert response.status == 403
    body = await response.json()
    assert body["reason"] == "not_allowed" and "only administrators" in body["error"]
    assert (await (await stadt.get(VERIFY, headers=bearer(token))).json())["display_name"] == "Stadt Teststadt"


async def test_a_retired_account_takes_no_profile_change_from_an_app(stadt):
    sessions, config = stadt.app[SESSIONS], stadt.app[CONFIG]
    token = await make_token(sessions, user="admin", actor="feuerwehr")
    async with sessions.begin() as session:
        admin = await find_user(session, "admin")
        assert (await profiles.retire_account(session, config, "feuerwehr", None, admin)).ok
    response = await stadt.patch(UPDATE, data={"note": "Neu"}, headers=bearer(token))
    assert response.status == 422 and (await response.json())["reason"] == "account_retired"


async def test_scopes_write_accounts_allows_and_read_or_write_statuses_does_not(stadt):
    sessions = stadt.app[SESSIONS]
    allowed = {}
    for scopes in ("write:accounts", "write", "read write:statuses", "read"):
        token = await scoped_token(sessions, scopes, user="admin")
        response = await stadt.patch(UPDATE, data={"note": f"Mit {scopes}"}, headers=bearer(token))
        allowed[scopes] = response.status
        if response.status == 403:
            assert (await response.json())["error"] == "This action is outside the authorized scopes"
    assert allowed == {"write:accounts": 200, "write": 200, "read write:statuses": 403, "read": 403}
    assert (await stadt.patch(UPDATE, data={"note": "ohne"})).status == 401


async def test_followers_servers_receive_the_update_of_the_actor(stadt, instances, admin_token):
    mastodon = await instances("mastodon.test")
    follower = mastodon.add_actor("alice")
    assert (await mastodon.sign_and_post(stadt, mastodon_follow(follower, CITY), follower))[0] == 202
    await run_jobs(stadt)
    mastodon.received.clear()
    response = await stadt.patch(UPDATE, data=picture("header", png_bytes(3000, 1000), display_name="Stadt (App)"),
                                 headers=bearer(admin_token))
    assert response.status == 200
    await run_jobs(stadt)
    updates = [r.json for r in mastodon.received if r.json["type"] == "Update"]
    assert len(updates) == 1 and updates[0]["object"]["name"] == "Stadt (App)"
    assert "/headers/stadt.png" in updates[0]["object"]["image"]["url"]
