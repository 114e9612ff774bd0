"""Conditional GET: validators and RFC 9110 precedence."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from multidict import CIMultiDict

from feed_samples import EDITED, ENTRIES, WITH_CW, meta
from feeds.http import (
    ConditionalReason,
    Outcome,
    cache_headers,
    etag_for,
    etag_for_entries,
    evaluate,
    last_modified_header,
)
from feeds.model import FeedKind

LAST = datetime(2026, 3, 4, 12, 30, 15, 250000, tzinfo=timezone.utc)
LAST_HTTP = "Wed, 04 Mar 2026 12:30:15 GMT"
ETAG = etag_for(FeedKind.ATOM, [(e.guid, e.last_changed) for e in ENTRIES])


def test_etag_is_strong_quoted_and_stable():
    assert ETAG.startswith('"') and ETAG.endswith('"') and not ETAG.startswith("W/")
    assert ETAG == etag_for("atom", [(e.guid, e.last_changed) for e in ENTRIES])
    assert etag_for_entries(FeedKind.ATOM, meta(), ENTRIES) == etag_for_entries(FeedKind.ATOM, meta(), ENTRIES)


def test_etag_changes_with_kind_edit_deletion_order_meta_and_salt():
    versions = [(e.guid, e.last_changed) for e in ENTRIES]
    others = {
        etag_for(FeedKind.RSS, versions),
        etag_for(FeedKind.ATOM, versions[1:]),  # a deleted post
        etag_for(FeedKind.ATOM, list(reversed(versions))),
        etag_for(FeedKind.ATOM, [(g, t + timedelta(seconds=1)) if g == EDITED.guid else (g, t) for g, t in versions]),
        etag_for(FeedKind.ATOM, versions, meta=meta()),
        etag_for(FeedKind.ATOM, versions, meta=replace(meta(), title="Neu")),
        etag_for(FeedKind.ATOM, versions, salt="v2"),
    }
    assert ETAG not in others and len(others) == 7


def test_etag_ignores_the_time_zone_a_timestamp_was_given_in():
    cet = timezone(timedelta(hours=1))
    assert etag_for("rss", [("a", LAST)]) == etag_for("rss", [("a", LAST.astimezone(cet))])


def test_last_modified_header_is_an_imf_fixdate_in_gmt():
    assert last_modified_header(LAST) == LAST_HTTP
    assert last_modified_header(LAST.astimezone(timezone(timedelta(hours=2)))) == LAST_HTTP
    with pytest.raises(ValueError):
        last_modified_header(datetime(2026, 1, 1))


def _eval(headers, etag=ETAG, last_modified=LAST, **kw):
    return evaluate(headers, etag, last_modified, **kw)


def test_no_conditional_headers_renders():
    result = _eval({})
    assert result.outcome is Outcome.RENDER and result.reason is ConditionalReason.NO_CONDITIONS
    assert result.description and not result.not_modified


@pytest.mark.parametrize(
    "field",
    [
        ETAG,
        f"W/{ETAG}",
        "*",
        f'"other", {ETAG}, "third"',
        f'"a,b", W/{ETAG}',
        ETAG.strip('"'),  # unquoted, as some clients send it
        f'  {ETAG}  ',
    ],
)
def test_if_none_match_matches_with_weak_comparison(field):
    result = _eval({"If-None-Match": field})
    assert result.not_modified and result.reason is ConditionalReason.ETAG_MATCHED


@pytest.mark.parametrize("field", ['"other"', 'W/"other", "x"', '""', "garbage,,,", f'"{ETAG}"'])
def test_if_none_match_mismatch_renders(field):
    result = _eval({"If-None-Match": field})
    assert result.outcome is Outcome.RENDER and result.reason is ConditionalReason.ETAG_DIFFERS


def test_if_none_match_wins_over_if_modified_since():
    mismatch = _eval({"If-None-Match": '"other"', "If-Modified-Since": LAST_HTTP})
    assert mismatch.outcome is Outcome.RENDER and mismatch.reason is ConditionalReason.ETAG_DIFFERS
    match = _eval({"If-None-Match": ETAG, "If-Modified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"})
    assert match.not_modified


def test_star_does_not_match_when_there_is_no_current_etag():
    assert not _eval({"If-None-Match": "*"}, etag=None).not_modified


@pytest.mark.parametrize(
    ("since", "expected"),
    [
        (LAST_HTTP, ConditionalReason.NOT_MODIFIED_SINCE),  # equal, despite our sub-second precision
        ("Thu, 05 Mar 2026 00:00:00 GMT", ConditionalReason.NOT_MODIFIED_SINCE),
        ("Wed, 04 Mar 2026 12:30:14 GMT", ConditionalReason.MODIFIED_SINCE),
        ("Wednesday, 04-Mar-26 12:30:15 GMT", ConditionalReason.NOT_MODIFIED_SINCE),  # RFC 850
        ("Wed Mar  4 12:30:15 2026", ConditionalReason.NOT_MODIFIED_SINCE),  # asctime
        ("yesterday", ConditionalReason.INVALID_DATE),
        ("", ConditionalReason.INVALID_DATE),
        ("Wed, 04 Mar 2026 12:30:15 GMT, Thu, 05 Mar 2026 00:00:00 GMT", ConditionalReason.INVALID_DATE),
        ("Wed, 32 Mar 2026 12:30:15 GMT", ConditionalReason.INVALID_DATE),
    ],
)
def test_if_modified_since_alone(since, expected):
    result = _eval({"If-Modified-Since": since})
    assert result.reason is expected
    assert result.not_modified == (expected is ConditionalReason.NOT_MODIFIED_SINCE)


def test_if_modified_since_without_last_modified_renders():
    assert _eval({"If-Modified-Since": LAST_HTTP}, last_modified=None).reason is ConditionalReason.NO_VALIDATOR


def test_header_names_are_case_insensitive_in_plain_dicts():
    assert _eval({"if-none-match": ETAG}).not_modified
    assert _eval({"IF-MODIFIED-SINCE": LAST_HTTP}).not_modified


def test_repeated_if_none_match_fields_in_aiohttp_headers_are_combined():
    headers = CIMultiDict([("If-None-Match", '"a"'), ("if-none-match", ETAG)])
    assert _eval(headers).not_modified


@pytest.mark.parametrize("method", ["GET", "HEAD", "head"])
def test_get_and_head_may_be_answered_with_304(method):
    assert _eval({"If-None-Match": ETAG}, method=method).not_modified


def test_other_methods_are_never_304():
    assert _eval({"If-None-Match": ETAG}, method="POST").reason is ConditionalReason.UNSAFE_METHOD


def test_cache_headers():
    headers = cache_headers(ETAG, LAST)
    assert headers == {"Cache-Control": "public, max-age=60", "ETag": ETAG, "Last-Modified": LAST_HTTP}
    assert cache_headers(None, None, max_age=5, vary=("Accept", "Accept-Encoding", "Accept")) == {
        "Cache-Control": "public, max-age=5",
        "Vary": "Accept, Accept-Encoding",
    }


def test_a_304_flow_needs_no_rendering():
    # What the bridge does: ids and change times from one small query, then decide before rendering.
    etag = etag_for_entries(FeedKind.RSS, meta(FeedKind.RSS), ENTRIES)
    last = max(e.last_changed for e in ENTRIES)
    first = evaluate({}, etag, last)
    assert not first.not_modified
    again = evaluate({"If-None-Match": cache_headers(etag, last)["ETag"]}, etag, last)
    assert again.not_modified
    after_edit = etag_for_entries(FeedKind.RSS, meta(FeedKind.RSS), [replace(WITH_CW, updated=LAST), *ENTRIES[1:]])
    assert not evaluate({"If-None-Match": etag}, after_edit, LAST).not_modified
