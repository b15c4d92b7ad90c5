"""The map as one HTML page (:func:`map_html`), online or with every asset inlined."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

from geo.errors import UsageError
from geo.render.leaflet import ASSETS, ASSETS_DIR
from geo.render.text import LANGUAGES

if TYPE_CHECKING:
    import folium


def _data_uri(path: Path) -> str:
    mime = {".png": "image/png", ".svg": "image/svg+xml"}.get(path.suffix, "application/octet-stream")
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _inline_css(path: Path) -> str:
    text = path.read_text(encoding="utf-8")

    def repl(match: re.Match) -> str:
        ref = match.group(2)
        if ref.startswith(("data:", "#")):
            return match.group(0)
        local = (path.parent / ref).resolve()
        if not local.is_file():
            return "url(data:,)"  # an image the package does not ship: nothing to fetch
        return f"url({_data_uri(local)})"

    return re.sub(r"url\((['\"]?)([^'\")]+)\1\)", repl, text)


def _default_icon_js() -> str:
    """Point Leaflet's default marker icon at data URIs (its path detection fails on inlined CSS)."""
    images = ASSETS_DIR / "leaflet" / "dist" / "images"
    urls = {
        "iconUrl": _data_uri(images / "marker-icon.png"),
        "iconRetinaUrl": _data_uri(images / "marker-icon-2x.png"),
        "shadowUrl": _data_uri(images / "marker-shadow.png"),
    }
    return (
        "\nL.Icon.Default.prototype._getIconUrl = L.Icon.prototype._getIconUrl;"
        f"\nL.Icon.Default.mergeOptions({json.dumps(urls)});\n"
    )


def map_html(fmap: folium.Map, *, offline: bool = False) -> str:
    """Render the map to one HTML document.

    Parameters
    ----------
    fmap : folium.Map
        A map from :func:`make_map`.
    offline : bool, default False
        Inline Leaflet, the plugins and their CSS (images as data URIs) from the vendored,
        checksummed copies in ``geo/render/assets/``, so the page needs no other host.

    Returns
    -------
    str
    """
    text = fmap.get_root().render()
    lang = getattr(fmap, "bigcats_lang", None)
    if lang in LANGUAGES:  # the page's language: screen readers, fonts (Chinese glyphs), the tests' check
        text = text.replace("<html>", f"<html lang='{lang}'>", 1)
    if not offline:
        return text
    for url, rel in ASSETS.values():
        local = ASSETS_DIR / rel
        if not local.is_file():
            raise UsageError(f"map asset {local} is missing: run 'make assets' to fetch the pinned packages")
        if rel.endswith(".js"):
            body = local.read_text(encoding="utf-8").replace("</script", "<\\/script")
            if rel == ASSETS["leaflet_js"][1]:
                body += _default_icon_js()
            text = text.replace(f'<script src="{url}"></script>', f"<script>{body}</script>")
        else:
            text = text.replace(f'<link rel="stylesheet" href="{url}"/>', f"<style>{_inline_css(local)}</style>")
    left = re.findall(r"<(?:script|link)[^>]*(?:src|href)=\"(https?:[^\"]+)\"", text)
    if left:
        raise UsageError(f"offline map still refers to {left[0]}: add it to geo.render.ASSETS and run 'make assets'")
    return text


def save_map(fmap: folium.Map, path: str | Path, *, offline: bool = False) -> Path:
    """Write :func:`map_html` to ``path`` (the caller makes the write atomic)."""
    path = Path(path)
    path.write_text(map_html(fmap, offline=offline), encoding="utf-8")
    return path
