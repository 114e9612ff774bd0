"""The post text of a warning: official wording first, cut (never the link, validity or hashtags) to the limit."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bridge.convert.text import count_characters
from bridge.warnings.cap import parse_xml, plain
from bridge.warnings.text import hashtag, warning_text

BERLIN = ZoneInfo("Europe/Berlin")
FIELDS = {"severity": "Severe", "headline": "Sturmflut", "event": "Sturmflut", "sender": "DE-HB-BHV-W001",
          "senderName": "Feuerwehr Bremerhaven", "area": "Stadt Bremerhaven",
          "onset": "2026-12-04T20:00:00+01:00", "expires": "2026-12-05T06:00:00+01:00"}


def test_a_long_description_is_cut_and_the_rest_stays():
    text = warning_text({**FIELDS, "description": "Das Wasser steigt. " * 200, "instruction": "Meiden Sie das Ufer."},
                        "https://stadt.example/warnings/1", BERLIN, 500)
    assert count_characters(text) <= 500 and "…" in text
    assert text.startswith("Unwetterwarnung: Sturmflut") and text.endswith("#Sturmflut #Warnung")
    assert "Gültig ab 04.12.2026, 20:00 Uhr bis 05.12.2026, 06:00 Uhr" in text
    assert "https://stadt.example/warnings/1" in text and "Handlungsempfehlungen" not in text


def test_hashtags_per_event_type():
    assert [hashtag(e) for e in ("ORKANARTIGE BÖEN", "Sturmflut", "", "112")] == [
        "#OrkanartigeBöen", "#Sturmflut", "#Warnung", "#Warnung"]


def test_markup_in_cap_texts_becomes_plain_text():
    assert plain("Erste Zeile<br/>zweite <b>fett</b> &amp; <script>x</script>") == "Erste Zeile\nzweite fett & x"


def test_a_document_that_is_not_cap_is_not_read():
    assert str(parse_xml(b"<rss><channel/></rss>")) == "unexpected_shape"
    assert str(parse_xml(b"<alert")) == "invalid_xml"
