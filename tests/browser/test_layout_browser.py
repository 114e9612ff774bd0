"""Every editorial, admin and DPO page, seeded with long texts, long URLs and many audit entries, at 1,280 px
and at 390 px: no horizontal scrollbar, and in German no English words and no raw codes. The pages come from
the app's router, so a new page is walked without editing this test. And a DPO's erasure, end to end, in
German: the receipt to hand the citizen, with the proof that verifies against the downloaded key."""

from __future__ import annotations

import json
import re

import pytest

from browser_support import sign_in
from consent.checkpoint import VerifierKey, load_public_key_pem
from consent.verifier import verify_proof_document
from layout_support import (LONG_WORD, PASSWORD, PERSON, PLATFORMS, horizontal_overflow, pages,
                            problems_with_the_words, screenshot_dir, seed, visible_text_script)

pytestmark = pytest.mark.browser
WIDTHS = {"wide": (1280, 900), "phone": (390, 844)}


@pytest.fixture
def config(make_config, port):
    return make_config(instance={"base_url": f"http://127.0.0.1:{port}", "listen": f"127.0.0.1:{port}"},
                       platforms=PLATFORMS)


async def walk(page, paths: list[str], width: str, folder, who: str) -> list[str]:
    failures = []
    for path in paths:
        response = await page.goto(path)
        name = re.sub(r"\W+", "_", path.strip("/")) or "root"
        await page.screenshot(path=str(folder / f"{who}-{width}-{name}.png"), full_page=True)
        if response is None or response.status != 200:
            failures.append(f"{path}: status {response.status if response else None}")
            continue
        wider = await horizontal_overflow(page)
        if wider > 0:
            failures.append(f"{path} at {width}: {wider} px wider than the window")
        words = problems_with_the_words(await page.evaluate(visible_text_script()))
        if words:
            failures.append(f"{path}: not German: {sorted(set(words))[:12]}")
    return failures


async def test_every_editor_admin_and_dpo_page_fits_a_phone_and_speaks_german(
        open_browser, server, sessions_for_server, config, tmp_path):
    seeded = await seed(sessions_for_server, config)
    paths = pages(config, seeded)
    assert {"/dpo/audit", "/admin/platforms", f"/editor/posts/{seeded.draft_id}/mirrors",
            f"/dpo/erasures/{seeded.erasure_seq}"} <= set(paths)
    folder = screenshot_dir(tmp_path)
    failures = []
    for who, only in (("amelie", None), ("dora", "/dpo")):
        page = await open_browser()
        await sign_in(page, who, PASSWORD, landing=None)
        await page.wait_for_load_state()
        for width, (w, h) in WIDTHS.items():
            await page.set_viewport_size({"width": w, "height": h})
            failures += await walk(page, [p for p in paths if only is None or p.startswith(only)], width, folder, who)
    assert failures == []


async def test_a_dpo_erases_a_person_in_german_and_hands_over_a_receipt_with_a_proof(
        open_browser, server, sessions_for_server, config, tmp_path):
    await seed(sessions_for_server, config)
    folder = screenshot_dir(tmp_path)
    page = await open_browser()
    await page.set_viewport_size({"width": 390, "height": 844})
    await sign_in(page, "dora", PASSWORD, landing=None)
    await page.get_by_role("link", name="Datenschutz", exact=True).click()
    await page.get_by_role("link", name="Daten einer Person").click()
    await page.get_by_label("Person").fill(PERSON)
    await page.get_by_role("button", name="Alles Gespeicherte anzeigen").click()
    assert await page.get_by_role("heading", name="Antworten").count() == 1
    assert LONG_WORD[:40] in await page.locator("main").inner_text()
    await page.screenshot(path=str(folder / "erase-1-person.png"), full_page=True)
    assert await horizontal_overflow(page) == 0

    await page.get_by_role("button", name="Löschen…").click()
    await page.screenshot(path=str(folder / "erase-2-confirm.png"), full_page=True)
    assert "Das kann nicht rückgängig gemacht werden" in await page.locator("main").inner_text()
    await page.get_by_role("button", name="Endgültig löschen").click()
    await page.wait_for_url(re.compile(r"/dpo/erasures/\d+$"))
    await page.screenshot(path=str(folder / "erase-3-receipt.png"), full_page=True)
    receipt = await page.locator("main").inner_text()
    for german in ("Bestätigung der Löschung", "Antworten und Kommentare: 1", "So können Sie die Löschung prüfen",
                   "Der Schlüssel, mit dem Ihre Daten verschlüsselt waren, wurde vernichtet"):
        assert german in receipt, german
    assert problems_with_the_words(await page.evaluate(visible_text_script())) == []
    assert await horizontal_overflow(page) == 0

    async with page.expect_download() as proof_download:
        await page.get_by_role("link", name="Nachweis herunterladen (JSON)").click()
    with open(await (await proof_download.value).path(), encoding="utf-8") as fh:
        proof = json.load(fh)
    async with page.expect_download() as key_download:
        await page.get_by_role("link", name="Öffentlichen Schlüssel herunterladen (PEM)").click()
    with open(await (await key_download.value).path(), "rb") as fh:
        key = VerifierKey(proof["origin"], load_public_key_pem(fh.read()))
    assert verify_proof_document(proof, key, proof["origin"]).ok
    assert proof["entry"]["action"] == "subject.erased" and page.url.endswith(f"/{proof['index']}")

    await page.goto("/dpo/subject")  # the person is gone: a second erasure says so, in German
    await page.get_by_label("Person").fill(PERSON)
    await page.get_by_role("button", name="Löschen…").click()
    await page.get_by_role("button", name="Endgültig löschen").click()
    assert "bereits gelöscht" in await page.get_by_role("alert").inner_text()
