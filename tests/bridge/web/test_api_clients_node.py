"""Real clients from npm (issue 20): masto.js (Elk's and Phanpy's library) and megalodon (Whalebird's), unmodified,
run by Node against the application listening on loopback (tests/clients/editor.mjs): sign in with a token,
read the instance and the account, upload an image with alt text, post, edit, read notifications, delete."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest

from support.api import make_token, png_bytes
from support.live import config, listening, port, sessions_beside  # noqa: F401  (fixtures)

CLIENTS = Path(__file__).parents[2] / "clients"


@pytest.fixture
def node() -> str:
    found = shutil.which("node")
    if found is None or not (CLIENTS / "node_modules" / "masto").is_dir() or \
            not (CLIENTS / "node_modules" / "megalodon").is_dir():
        pytest.skip("Node or masto.js/megalodon is missing: run tests/clients/install.sh (needs npm)")
    return found


async def test_masto_js_and_megalodon_sign_in_post_edit_and_delete(node, config, booted, port, tmp_path):
    image = tmp_path / "bild.png"
    image.write_bytes(png_bytes(40, 30))
    async with listening(config, run_worker=False) as base, sessions_beside(config) as sessions:
        token = await make_token(sessions, user="pressestelle")
        process = await asyncio.create_subprocess_exec(
            node, str(CLIENTS / "editor.mjs"), base, token, str(image), cwd=CLIENTS,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, err.decode()
    result = json.loads(out.decode().strip().splitlines()[-1])
    masto, megalodon = result["masto"], result["megalodon"]
    assert "error" not in masto, masto.get("error")
    assert masto["title"] == config.instance.name and masto["characters"] > 0 and masto["acct"] == "stadt"
    assert masto["media"] == "Ein rotes Rechteck (masto.js)" and masto["images"] == 1
    assert "Hallo aus masto.js" in masto["posted"] and "korrigiert" in masto["edited"] and masto["editedAt"]
    assert masto["history"] == 2 and masto["notifications"] == 0 and masto["gone"] == 404
    assert "error" not in megalodon, megalodon.get("error")
    assert megalodon["sns"] == "mastodon" and megalodon["title"] == config.instance.name
    assert megalodon["acct"] == "stadt" and megalodon["media"] == "Ein rotes Rechteck (megalodon)"
    assert "Hallo aus megalodon" in megalodon["posted"] and megalodon["images"] == 1
    assert "korrigiert" in megalodon["edited"] and megalodon["notifications"] == 0 and megalodon["gone"] == 404
