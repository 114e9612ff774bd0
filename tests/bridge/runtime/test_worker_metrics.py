"""`[metrics] worker_listen`: a worker process's own counters on a port of its own, for the allowed
addresses only; a malformed value or a busy port is one line."""

from __future__ import annotations

import socket

import pytest

from bridge.cli.main import main
from bridge.config.model import ConfigError
from bridge.runtime.metrics import count_delivery
from bridge.web.operations.metrics import worker_app
from testkit import write_config


async def test_the_worker_endpoint_answers_allowed_addresses_with_its_counters(aiohttp_client, make_config):
    count_delivery("delivered")
    allowed = await aiohttp_client(worker_app(make_config(metrics={"allow": ["127.0.0.1"]})))
    response = await allowed.get("/metrics")
    assert response.status == 200 and response.headers["Cache-Control"] == "no-store"
    text = await response.text()
    assert 'stadtbote_deliveries_total{outcome="delivered"}' in text
    assert "stadtbote_jobs_queued" not in text  # the database's figures come from serve, once
    others = await aiohttp_client(worker_app(make_config(metrics={"allow": ["10.0.0.0/8"]})))
    assert (await others.get("/metrics")).status == 404


@pytest.mark.parametrize("value", ["9464", "localhost:", ":9464", "127.0.0.1:70000"])
def test_a_malformed_worker_listen_names_the_key(make_config, value):
    with pytest.raises(ConfigError) as raised:
        make_config(metrics={"worker_listen": value})
    assert raised.value.path == "metrics.worker_listen"


def test_a_busy_worker_port_is_one_line(tmp_path, db_url, capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        config = write_config(tmp_path, db_url, extra=f'\n[metrics]\nworker_listen = "127.0.0.1:{port}"\n')
        assert main(["worker", "--config", str(config)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"stadtbote: [metrics] worker_listen: cannot listen on 127.0.0.1:{port}")
    assert len(err.splitlines()) == 1
