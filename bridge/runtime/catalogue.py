"""The translation catalogues (Babel .po files under bridge/locale), compiled in memory on first use.

One loader for everything that speaks to people: the web interface and the e-mail written by the worker,
which sits below the web layer, so both find a text's German in the same messages.po.
"""

from __future__ import annotations

import functools
import gettext
import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parents[1] / "locale"


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    """The catalogue of `language`; English (the source language) and unknown ones translate nothing."""
    po = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return gettext.NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=language)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return gettext.GNUTranslations(buf)
