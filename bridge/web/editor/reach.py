"""`/editor/reach`: what an account's posts reached, without tracking anyone; as a page with SVG charts
and tables, and as CSV or JSON for reports."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict
from datetime import date, datetime

from aiohttp import web
from markupsafe import Markup

from activitypub.uris import Uris
from bridge.appkeys import CONFIG, SESSIONS
from bridge.auth.users import allowed_actors
from bridge.platforms.connectors.base import METRIC_NAMES
from bridge.convert.charts import bar_svg, columns_svg
from bridge.reach.figures import FOLD_BELOW, AccountReach, account_reach
from bridge.store.models import Role
from bridge.web.filters import format_when
from bridge.web.guards import require_user
from bridge.web.i18n import current_language
from bridge.web.messages import N_
from bridge.web.render import render

READERS = (Role.ADMIN, Role.EDITOR)
DAYS = 30


def _actor(request: web.Request, user) -> str:
    names = allowed_actors(request.app[CONFIG], user)
    wanted = request.match_info.get("actor") or request.query.get("actor") or (names[0] if names else "")
    if wanted not in names:
        raise web.HTTPNotFound(text=N_("No such account, or not one of yours."))
    return wanted


async def _figures(request: web.Request) -> tuple[list[str], AccountReach]:
    user = require_user(request, roles=READERS)
    config = request.app[CONFIG]
    name = _actor(request, user)
    async with request.app[SESSIONS]() as session:
        figures = await account_reach(session, Uris.for_base(config.instance.base_url), name,
                                      datetime.now(config.tz).date(), DAYS)
    return allowed_actors(config, user), figures


async def page(request: web.Request) -> web.StreamResponse:
    names, figures = await _figures(request)
    config = request.app[CONFIG]
    views = [d.count for d in figures.page_views]
    top_server = max((s.followers for s in figures.servers), default=0)
    return render(request, "editor_reach.html", {
        "figures": figures, "actors": names, "fold_below": FOLD_BELOW, "days": DAYS,
        "views_chart": Markup(columns_svg(views, _day(figures.since, config), _day(figures.until, config))),
        "server_bars": {s.server: Markup(bar_svg(s.followers, top_server)) for s in figures.servers},
    })


def _day(day: date, config) -> str:
    return format_when(datetime(day.year, day.month, day.day, 12, tzinfo=config.tz), config.tz,
                       current_language()).rsplit(",", 1)[0]


async def export_json(request: web.Request) -> web.StreamResponse:
    _, figures = await _figures(request)
    body = json.dumps(asdict(figures), default=_plain, ensure_ascii=False, indent=1)
    return web.Response(text=body, content_type="application/json", headers=_download(figures, "json"))


async def export_csv(request: web.Request) -> web.StreamResponse:
    """One table in sections (figure, key, value …): spreadsheet programs open it as it is."""
    _, f = await _figures(request)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "key", "value"])
    writer.writerow(["period", f.since.isoformat(), f.until.isoformat()])
    writer.writerow(["followers", "total", f.followers])
    for share in f.servers:
        writer.writerow(["followers_by_server", share.server, share.followers])
    for day in f.page_views:
        writer.writerow(["page_views", day.day.isoformat(), day.count])
    for s in f.subscribers:
        writer.writerow(["feed_subscribers", f"{s.aggregator} {s.feed}", s.subscribers])
    writer.writerow([])
    writer.writerow(["post", "published", "servers_reached", "deliveries_accepted", "deliveries_refused", "likes",
                     "boosts", "quotes", "replies", "voters", "page_views"])
    for p in f.posts:
        writer.writerow([p.post_id, p.published_at.isoformat() if p.published_at else "", p.servers_reached,
                         p.deliveries_accepted, p.deliveries_refused, p.likes, p.boosts, p.quotes, p.replies,
                         "" if p.voters is None else p.voters, p.page_views])
    writer.writerow([])  # the platforms' own counts: a table of their own, never added to the ones above
    writer.writerow(["post", "platform", "fetched_at", *METRIC_NAMES, "poll_votes_per_option"])
    for p in f.posts:
        for figures in p.platforms:
            writer.writerow([p.post_id, figures.platform, figures.fetched_at.isoformat(),
                             *(figures.counts.get(name, "") for name in METRIC_NAMES),
                             "" if figures.poll is None else " ".join(map(str, figures.poll))])
    return web.Response(text=out.getvalue(), content_type="text/csv", charset="utf-8",
                        headers=_download(f, "csv"))


def _download(figures: AccountReach, suffix: str) -> dict[str, str]:
    name = f"reichweite-{figures.actor}-{figures.until.isoformat()}.{suffix}"
    return {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}


def _plain(value):
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def setup(app: web.Application) -> None:
    app.router.add_get("/editor/reach", page, name="reach")
    app.router.add_get("/editor/reach/{actor:[a-z0-9_]{1,30}}", page)
    app.router.add_get("/editor/reach/{actor:[a-z0-9_]{1,30}}.csv", export_csv)
    app.router.add_get("/editor/reach/{actor:[a-z0-9_]{1,30}}.json", export_json)
