"""Steps every browser test takes the same way."""

from __future__ import annotations

import re


async def sign_in(page, name: str, password: str, *, landing: str | None = r"/editor$") -> None:
    """Signs in through the form; waits for the page the person lands on (None: does not wait)."""
    await page.goto("/signin")
    await page.get_by_label("User name").fill(name)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    if landing is not None:
        await page.wait_for_url(re.compile(landing))
