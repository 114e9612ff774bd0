"""German and English interface texts: gettext catalogues (Babel .po files) compiled in memory at start."""

from __future__ import annotations

import gettext
from contextvars import ContextVar

from bridge.runtime.catalogue import LOCALE_DIR, translations

__all__ = ["LOCALE_DIR", "Catalogues", "current_language", "set_language"]

_current: ContextVar[str] = ContextVar("language", default="en")


class Catalogues:
    def __init__(self, languages: tuple[str, ...] = ("de", "en")):
        self.translations: dict[str, gettext.NullTranslations] = {lang: translations(lang) for lang in languages}

    def gettext(self, message: str) -> str:
        return self.translations.get(_current.get(), gettext.NullTranslations()).gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.translations.get(_current.get(), gettext.NullTranslations()).ngettext(singular, plural, n)


def set_language(language: str) -> None:
    _current.set(language)


def current_language() -> str:
    return _current.get()
