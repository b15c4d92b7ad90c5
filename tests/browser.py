"""Headless Chromium for the map tests: Debian's /usr/bin/chromium driven by Playwright.

Never ``playwright install``: ``make test`` installs the system browser (scripts/ensure_chromium.sh).
"""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextlib.contextmanager
def chromium_context(viewport=(1400, 900), *, touch: bool = False):
    """Yield a Playwright browser context with a fresh user-data-dir; every non-local request is blocked.

    ``touch`` makes a phone-like context (touch events, ``page.tap``).
    """
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="bigcats-chromium-") as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": viewport[0], "height": viewport[1]},
            has_touch=touch,
            is_mobile=touch,
        )
        context.route("**/*", _only_local)
        try:
            yield context
        finally:
            context.close()


def _only_local(route) -> None:
    url = route.request.url
    if url.startswith(("file:", "data:", "about:", "blob:")):
        route.continue_()
    else:
        route.abort()


def find_map_js() -> str:
    """JS expression giving the page's Leaflet map object."""
    return (
        "(() => { for (const k of Object.keys(window)) { if (k.startsWith('map_') && window[k] instanceof L.Map)"
        " return window[k]; } return null; })()"
    )


def file_url(path: Path) -> str:
    return Path(path).resolve().as_uri()
