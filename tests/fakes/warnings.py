"""A fake of the official warning sources on one loopback server, serving the documented payload shapes from
`tests/fixtures/warnings/<source>_<flow>_<n>.json|xml` and changing between polls as the test steps it:

- BBK warning API ("NINA", `/nina`): `GET /dashboard/{ARS}.json` (the short form of every current warning,
  with an ETag honoured by `If-None-Match`) and `GET /warnings/{id}.json` (the CAP message as JSON);
- DWD (`/dwd`): `GET /COMMUNEUNION_DWD_STAT/Z_CAP_C_EDZW_LATEST_PVW_STATUS_PREMIUMDWD_COMMUNEUNION_MUL.zip`, one
  CAP XML file per current warning;
- a county's CAP system (`/cap`): `GET /feed.atom`, an Atom index linking `application/cap+xml` documents;
- PEGELONLINE (`/pegel`): `GET /stations/{uuid}.json` with the W time series' current measurement.

`fail(source, mode)` breaks a source: down (HTTP 503), slow (answers after 5 s), garbage, invalid, redirect
(endlessly to itself), no_detail (NINA's details answer 404). Every request is recorded (path and headers)."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from pathlib import Path

from aiohttp import web

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "warnings"
DWD_ZIP = "/dwd/COMMUNEUNION_DWD_STAT/Z_CAP_C_EDZW_LATEST_PVW_STATUS_PREMIUMDWD_COMMUNEUNION_MUL.zip"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


class WarningSources:
    def __init__(self) -> None:
        self.current: dict[str, list[str]] = {"nina": [], "dwd": [], "cap": [], "pegel": []}
        self.broken: dict[str, str] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.base = ""

    def show(self, source: str, *names: str) -> None:
        """What `source` lists from now on: fixture file names."""
        self.current[source] = list(names)

    def fail(self, source: str, mode: str | None) -> None:
        if mode is None:
            self.broken.pop(source, None)
        else:
            self.broken[source] = mode

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._record])
        app.router.add_get("/nina/dashboard/{ars}.json", self.dashboard)
        app.router.add_get("/nina/warnings/{identifier}.json", self.detail)
        app.router.add_get(DWD_ZIP, self.dwd)
        app.router.add_get("/cap/feed.atom", self.atom)
        app.router.add_get("/cap/{name}", self.cap_document)
        app.router.add_get("/pegel/stations/{station}.json", self.station)
        return app

    @web.middleware
    async def _record(self, request: web.Request, handler):
        self.requests.append((request.path, dict(request.headers)))
        source = request.path.split("/")[1]
        mode = self.broken.get(source)
        if mode == "down":
            return web.Response(status=503, text="Service Unavailable")
        if mode == "slow":
            await asyncio.sleep(5)
        if mode == "garbage":
            return web.Response(body=b"\x00\xffnot a document\x1f" * 40, content_type="application/octet-stream")
        if mode == "invalid":
            body = (await handler(request)).body
            return web.Response(body=bytes(body)[: len(body) // 2] or b"{", content_type="application/json")
        if mode == "no_detail" and "/warnings/" in request.path:
            return web.Response(status=404)
        if mode == "redirect":
            raise web.HTTPFound(request.path)
        return await handler(request)

    # ------------------------------------------------------------------------------------------- NINA

    def _nina_documents(self) -> list[dict]:
        return [json.loads(fixture(name)) for name in self.current["nina"]]

    async def dashboard(self, request: web.Request) -> web.Response:
        items = []
        for document in self._nina_documents():
            info = document["info"][0]
            items.append({"id": document["identifier"],
                          "payload": {"version": 1, "type": "ALERT", "id": document["identifier"],
                                      "hash": str(abs(hash(json.dumps(document)))),
                                      "data": {"headline": info["headline"], "provider": "MOWAS",
                                               "severity": info["severity"], "msgType": document["msgType"],
                                               "transKeys": {"event": "BBK-EVC-047"},
                                               "area": {"type": "ZGEM", "data": request.match_info["ars"]}}},
                          "i18nTitle": {"de": info["headline"]}, "sent": document["sent"],
                          "expires": info.get("expires")})
        etag = f'"{abs(hash(json.dumps(items)))}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.json_response(items, headers={"ETag": etag})

    async def detail(self, request: web.Request) -> web.Response:
        for document in self._nina_documents():
            if document["identifier"] == request.match_info["identifier"]:
                return web.json_response(document)
        return web.Response(status=404)

    # -------------------------------------------------------------------------------------------- DWD

    async def dwd(self, request: web.Request) -> web.Response:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for name in self.current["dwd"]:
                archive.writestr(name, fixture(name))
        return web.Response(body=buffer.getvalue(), content_type="application/zip")

    # -------------------------------------------------------------------------------------------- CAP

    async def atom(self, request: web.Request) -> web.Response:
        entries = "".join(
            f'<entry><id>{self.base}/cap/{name}</id><title>{name}</title><updated>2026-12-04T15:00:00+01:00</updated>'
            f'<link rel="alternate" type="application/cap+xml" href="{name}"/></entry>'
            for name in self.current["cap"])
        body = (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><id>{self.base}/cap'
                f'</id><title>Warnungen</title><updated>2026-12-04T15:00:00+01:00</updated>{entries}</feed>')
        return web.Response(body=body.encode(), content_type="application/atom+xml")

    async def cap_document(self, request: web.Request) -> web.Response:
        return web.Response(body=fixture(request.match_info["name"]), content_type="application/cap+xml")

    # ------------------------------------------------------------------------------------ PEGELONLINE

    async def station(self, request: web.Request) -> web.Response:
        document = json.loads(fixture(self.current["pegel"][0]))
        if request.match_info["station"] not in (document["uuid"], document["shortname"]):
            return web.Response(status=404)
        return web.json_response(document)


def source_tables(base: str, **overrides) -> list[dict]:
    """`[[warnings]]` tables for the four fake sources at `base`; `overrides` per source id."""
    tables = [
        {"id": "nina", "kind": "nina", "api_base": f"{base}/nina", "actors": ["stadt"], "ars": "040120000000",
         "interval": 60, "timeout": 2},
        {"id": "dwd", "kind": "dwd", "api_base": f"{base}/dwd", "actors": ["stadt"], "warncells": ["712345678"],
         "min_severity": "Severe", "timeout": 2},
        {"id": "kreis", "kind": "cap", "url": f"{base}/cap/feed.atom", "actors": ["stadt"], "timeout": 2},
        {"id": "pegel", "kind": "pegelonline", "api_base": f"{base}/pegel", "actors": ["stadt"],
         "stations": ["b3c5e1a2-0000-4c6e-9b1a-5f0e7a1d2c3b"], "levels": {"Moderate": 750, "Severe": 900},
         "timeout": 2},
    ]
    for table in tables:
        table.update(overrides.get(table["id"], {}))
    return tables
