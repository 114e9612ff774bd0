"""German and English interface: the catalogue is complete, and a user who picks German gets German."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_python
from babel.messages.pofile import read_po
from jinja2.ext import babel_extract

from bridge.web.i18n import LOCALE_DIR
from bridge.convert.images import MEDIA_TEXT
from bridge.publishing.posts import POST_TEXT
from bridge.auth.tokens import TOKEN_TEXT
from bridge.auth.users import USER_ERROR_TEXT
from bridge.platforms.answers import ANSWER_TEXT
from bridge.platforms.status import HEALTH_TEXT, STATUS_TEXT
from bridge.platforms.connections import CONNECT_TEXT
from bridge.publishing.feedimport import IMPORT_CHANGE_TEXT
from bridge.publishing.profiles import PROFILE_TEXT
from support.web import compose_form, editor, visitors  # noqa: F401

BRIDGE = Path(__file__).resolve().parents[3] / "bridge"
JINJA_OPTIONS = {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}


def interface_messages() -> set[str]:
    """Every string the interface may show: `_()` in templates, `N_()` in views, the services' reason texts."""
    found: set[str] = set()
    for template in (BRIDGE / "templates").glob("*.html"):
        with template.open("rb") as fh:
            found.update(_first(m) for _, _, m, _ in babel_extract(fh, ("_", "gettext"), [], JINJA_OPTIONS))
    for module in (BRIDGE / "web").rglob("*.py"):
        with module.open("rb") as fh:
            found.update(_first(m) for _, _, m, _ in extract_python(fh, {"N_": None, "_": None}, [], {}))
    for texts in (POST_TEXT, MEDIA_TEXT, USER_ERROR_TEXT, TOKEN_TEXT, STATUS_TEXT, HEALTH_TEXT, ANSWER_TEXT,
                  PROFILE_TEXT, CONNECT_TEXT, IMPORT_CHANGE_TEXT):
        found.update(texts.values())
    return found - {None}


def _first(message):
    # A call with keyword arguments is extracted as a tuple: the message id comes first.
    return message[0] if isinstance(message, tuple) else message


def german() -> dict[str, str]:
    with (LOCALE_DIR / "de" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return {m.id: m.string for m in read_po(fh, locale="de") if m.id}


def test_every_interface_text_has_a_german_translation():
    catalogue = german()
    missing = sorted(m for m in interface_messages() if not catalogue.get(m))
    assert missing == []


def test_german_translations_keep_the_placeholders():
    for source, translated in german().items():
        for name in ("%(n)s", "%(limit)s", "%(count)s", "%(name)s", "%(account)s", "%(state)s", "%(length)s", "%(when)s"):
            assert (name in source) == (name in translated), (source, translated)


async def test_a_user_who_picks_german_gets_the_interface_in_german(visitors, sessions):
    erika = await editor(visitors, sessions, "erika")
    assert (await erika.get("/editor")).has("Dashboard")
    page = await erika.post("/language", {"language": "de"})
    assert (page.status, page.location) == (303, "/password")
    page = await erika.get("/editor")
    assert '<html lang="de">' in page.text
    assert page.has("Übersicht") and page.has("Abmelden") and not page.has("Sign out")
    page = await erika.post("/editor/compose", compose_form("x" * 501))
    assert page.status == 422 and page.has("Der Text hat 501 Zeichen; erlaubt sind höchstens 500.")
    page = await erika.get("/admin/users")
    assert page.status == 403 and page.has("Ihre Rolle erlaubt diese Seite nicht.")
    page = await erika.post("/language", {"language": "fr"})
    assert page.status == 422 and page.has("Wählen Sie Deutsch oder Englisch.")


def test_known_mistranslations_stay_fixed():
    catalogue = german()
    assert catalogue["E-mail"] == "E-Mail"
    deleting = catalogue["Delete this post? Followers are told to remove it, and it cannot be restored."]
    assert "Follower" in deleting and "Folgende werden gebeten" not in deleting  # "followers", not "the following"
    assert catalogue["Unpin"] == "Vom Profil lösen"
