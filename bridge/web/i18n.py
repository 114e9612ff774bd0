"""German and English interface texts: gettext catalogues (Babel .po files) compiled in memory at start."""

from __future__ import annotations

import gettext
import io
from contextvars import ContextVar
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parents[1] / "locale"
_current: ContextVar[str] = ContextVar("language", default="en")


class Catalogues:
    def __init__(self, languages: tuple[str, ...] = ("de", "en")):
        self.translations: dict[str, gettext.NullTranslations] = {}
        for lang in languages:
            po = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
            if po.exists():
                with po.open("rb") as fh:
                    catalog = read_po(fh, locale=lang)
                buf = io.BytesIO()
                write_mo(buf, catalog)
                buf.seek(0)
                self.translations[lang] = gettext.GNUTranslations(buf)
            else:
                self.translations[lang] = gettext.NullTranslations()

    def gettext(self, message: str) -> str:
        return self.translations.get(_current.get(), gettext.NullTranslations()).gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.translations.get(_current.get(), gettext.NullTranslations()).ngettext(singular, plural, n)


def set_language(language: str) -> None:
    _current.set(language)


def current_language() -> str:
    return _current.get()
