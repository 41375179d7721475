"""What the console's browser tests share: Debian's Chromium, its flags, and the screenshots."""

from __future__ import annotations

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "build" / "console-screenshots"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]


async def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """A full-page screenshot, to look at (build/console-screenshots/NAME.png)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
