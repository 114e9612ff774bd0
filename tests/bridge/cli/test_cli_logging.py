"""`[logging]` as an operator sets it: the real `stadtbote serve` process, its stderr read line by line."""

from __future__ import annotations

import asyncio
import json

import aiohttp

from bridge.cli.main import main
from test_cli import free_port, read_until, start_serve, stop
from testkit import write_config

FORWARDED = "198.51.100.7"  # an address a client claims; the server must neither believe nor log it


async def _visit(port: int) -> dict[str, int]:
    statuses = {}
    async with aiohttp.ClientSession(f"http://127.0.0.1:{port}", headers={"X-Forwarded-For": FORWARDED}) as http:
        for path in ("/healthz", "/readyz", "/metrics", "/no-such-page?name=alice", "/@stadt"):
            async with http.get(path) as response:
                await response.read()
                statuses[path] = response.status
        async with http.post("/inbox", data=b'{"type": "Create", "content": "geheimer Text"}',
                             headers={"Content-Type": "application/activity+json"}) as response:
            statuses["/inbox"] = response.status
    return statuses


def _serve(tmp_path, empty_db_url, capsys, logging_table: str) -> tuple[dict[str, int], list[str]]:
    port = free_port()
    config = write_config(tmp_path, empty_db_url, port, extra=f"[logging]\n{logging_table}\n")
    assert main(["db", "upgrade", "--config", str(config)]) == 0  # the first start's own lines, printed here
    capsys.readouterr()
    proc = start_serve(config)
    read_until(proc, "is listening")
    statuses = asyncio.run(_visit(port))
    return statuses, stop(proc).splitlines()


def test_json_logs_are_one_object_per_line_with_ids_and_no_addresses(tmp_path, empty_db_url, capsys):
    statuses, lines = _serve(tmp_path, empty_db_url, capsys, 'format = "json"')
    assert statuses["/healthz"] == 200 and statuses["/metrics"] == 200 and statuses["/inbox"] == 401
    assert lines
    entries = [json.loads(line) for line in lines]  # every line, or this fails
    for entry in entries:
        assert {"time", "level", "logger", "message"} <= set(entry), entry
    access = {e["route"]: e for e in entries if e["logger"] == "aiohttp.access"}
    assert {"healthz", "readyz", "metrics", "unmatched", "shared_inbox"} <= set(access)
    health = access["healthz"]
    assert health["status"] == 200 and isinstance(health["duration_ms"], float) and len(health["request_id"]) == 16
    assert access["shared_inbox"]["status"] == 401
    [refused] = [e for e in entries if e["logger"] == "stadtbote.inbox"]
    assert (refused["reason"], refused["status"]) == ("no_signature", 401)
    assert refused["request_id"] == access["shared_inbox"]["request_id"], "one id for the request's lines"
    assert not [e for e in entries if e["logger"].startswith("alembic") and "request_id" in e], \
        "probes do not log the schema check"
    text = "\n".join(lines)
    for never in ("127.0.0.1", FORWARDED, "geheimer Text", "name=alice"):
        assert never not in text, never


def test_access_log_off_leaves_only_the_applications_lines(tmp_path, empty_db_url, capsys):
    statuses, lines = _serve(tmp_path, empty_db_url, capsys, 'format = "json"\naccess_log = false')
    assert statuses["/healthz"] == 200
    entries = [json.loads(line) for line in lines]
    assert not [e for e in entries if e["logger"] == "aiohttp.access"]


def test_a_wrong_level_or_format_is_one_config_line(tmp_path, empty_db_url, capsys):
    for table, key in (('level = "verbose"', "logging.level"), ('format = "xml"', "logging.format")):
        config = write_config(tmp_path, empty_db_url, extra=f"[logging]\n{table}\n")
        assert main(["db", "check", "--config", str(config)]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith(f"stadtbote: config error: {key}") and "\n" not in err


def test_the_first_start_names_each_migration_once_without_alembics_own_lines(tmp_path, empty_db_url):
    config = write_config(tmp_path, empty_db_url, free_port())
    proc = start_serve(config)
    read_until(proc, "is listening")
    lines = stop(proc).splitlines()
    applied = [line for line in lines if line.startswith("Applied migration ")]
    assert applied and applied[0] == "Applied migration 0001"
    assert not [line for line in lines if " alembic." in line], "alembic's lines are for debug only"
async def test_access_lines_are_gathered_per_event_loop_turn_in_the_configured_format():
    import io
    import logging

    from bridge.runtime.logs import JsonFormatter, LineWriter, TEXT_FORMAT

    class Counting(io.StringIO):
        writes = 0

        def write(self, text):
            Counting.writes += 1
            return super().write(text)
    stream = Counting()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    writer = LineWriter(handler, json_lines=False)
    for n in range(3):
        writer.write("aiohttp.access", f"GET /@stadt 200 {n}.0ms", {"route": "public_profile"})
    assert stream.getvalue() == "" and Counting.writes == 0  # not yet: at the end of this turn
    await asyncio.sleep(0)
    lines = stream.getvalue().splitlines()
    assert Counting.writes == 1 and len(lines) == 3
    assert all(line.split(" ", 2)[2] == f"INFO aiohttp.access GET /@stadt 200 {n}.0ms" for n, line in enumerate(lines))
    json_stream = io.StringIO()
    json_handler = logging.StreamHandler(json_stream)
    json_handler.setFormatter(JsonFormatter())
    json_writer = LineWriter(json_handler, json_lines=True)
    json_writer.write("aiohttp.access", "GET / 200 1.0ms", {"request_id": "ab12", "route": "public_home",
                                                            "status": 200, "duration_ms": 1.0})
    await asyncio.sleep(0)
    line = json.loads(json_stream.getvalue())
    assert line["level"] == "info" and line["request_id"] == "ab12" and line["status"] == 200 and "time" in line
