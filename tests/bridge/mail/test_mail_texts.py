"""Mail texts come from the interface catalogue: every one has its German, with the same placeholders, and a
German mail carries no English."""

from __future__ import annotations

import re
import string

import pytest

from bridge.mail import messages
from bridge.mail.texts import TEXTS
from bridge.runtime.catalogue import LOCALE_DIR, translations
from support.mail import mail_section

VALUES = {"instance": "Stadt Teststadt", "name": "erika", "link": "https://stadt.test/x", "actor": "feuerwehr",
          "author": "anna", "reviewer": "bernd", "comment": "Bitte prüfen.", "lines": "@stadt: 2",
          "settings": "https://stadt.test/password", "signin": "https://stadt.test/signin",
          "forgot": "https://stadt.test/signin/forgot", "count": 2}
# Words of the English texts that German never uses; a German mail with one of them fell back to English.
ENGLISH = re.compile(r"\b(Hello|the|you|your|was|were|this|for|with|here|If|asked|post|approval|returned)\b")


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_mail_text_is_in_the_german_catalogue_with_its_placeholders():
    german = translations("de")
    for kind, parts in TEXTS.items():
        for part, source in parts.items():
            translated = german.gettext(source)
            assert translated != source, (kind, part)
            assert _placeholders(translated) == _placeholders(source), (kind, part)


def test_the_catalogue_holds_each_mail_text_once():
    po = (LOCALE_DIR / "de" / "LC_MESSAGES" / "messages.po").read_text()
    assert po.count('msgid "Your user at {instance}"') == 1
    assert po.count('msgid "A post for @{actor} awaits your approval"') == 1


@pytest.mark.parametrize("kind", sorted(TEXTS))
def test_a_german_mail_has_no_english(make_config, kind):
    config = make_config(mail=mail_section(25))
    values = {k: v for k, v in VALUES.items() if "{" + k + "}" in "".join(TEXTS[kind].values()) and k != "instance"}
    message = messages.build(config, kind, "erika@stadt.test", "de", **values)
    plain = message.get_body(("plain",)).get_content()
    assert message["Content-Language"] == "de" and plain.startswith("Guten Tag,")
    assert not ENGLISH.search(str(message["Subject"]) + plain), (kind, ENGLISH.findall(plain))
    english = messages.build(config, kind, "erika@stadt.test", "en", **values)
    english_plain = english.get_body(("plain",)).get_content()
    assert english_plain.startswith("Hello,") and ENGLISH.search(english_plain)  # the check would see English
