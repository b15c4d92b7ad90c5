"""Fetch the map's JavaScript/CSS from pinned npm packages into geo/render/assets/ (``make assets``).

Each package is fetched with ``npm pack NAME@VERSION``, its tarball checked against the
sha256 pinned below, and only the files the map needs are extracted, byte for byte, into
``geo/render/assets/NAME/``. ``geo/render/assets/MANIFEST.json`` records package, version, tarball sha256
and the sha256 of every extracted file; the tests check the files against it. The extracted
files are committed (like ``layers/``) so ``make map`` and ``bigcats build --offline`` need no
network; rerun this script to reproduce them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

#: name, version, sha256 of the npm tarball, files to extract (paths inside ``package/``).
PINNED = [
    ("leaflet", "1.9.4", "84c65a256e50657896f54c33bd857b6849ebe94c817803be818bf32a3dde0b77",
     ["dist/leaflet.js", "dist/leaflet.css", "dist/images/layers.png", "dist/images/layers-2x.png",
      "dist/images/marker-icon.png", "dist/images/marker-icon-2x.png", "dist/images/marker-shadow.png", "LICENSE"]),
    ("leaflet.fullscreen", "3.0.0", "b19f191d11fc2e6afbb75af9e79cb923087a630e4c35a565353d756ed6c1c77a",
     ["Control.FullScreen.js", "Control.FullScreen.css", "icon-fullscreen.svg", "LICENSE"]),
    ("leaflet-measure", "2.1.7", "5ad0e1b697014ef3c10de6c4d970d46fa8e9fa05a9efdfb1221b2f69a6dd5d60",
     ["dist/leaflet-measure.min.js", "dist/leaflet-measure.css"]
     + [f"dist/images/{n}{s}.png"
        for n in ("rulers", "cancel", "check", "focus", "start", "trash") for s in ("", "_@2X")]
     + ["LICENSE"]),
    ("leaflet-minimap", "3.6.1", "cd6f560dbea1c2936dbdafa645890d9673a4d5981af30020c1c399dc4634e928",
     ["dist/Control.MiniMap.min.js", "dist/Control.MiniMap.min.css", "dist/images/toggle.png",
      "dist/images/toggle.svg", "LICENSE.txt"]),
    ("leaflet-mouse-position", "1.2.0", "cfff7ee9fa61f027ed54ecf45ee2dd5b2138a1b6ef5ebbe05ef8b5fdcaa659d8",
     ["src/L.Control.MousePosition.js", "src/L.Control.MousePosition.css", "MIT-LICENCE.txt"]),
]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fetch(out: Path) -> dict:
    """Fetch, verify and extract every pinned package into ``out``; return the manifest."""
    manifest = {"generator": "scripts/fetch_assets.py", "packages": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for name, version, tar_sha, files in PINNED:
            proc = subprocess.run(["npm", "pack", "--silent", f"{name}@{version}"], cwd=tmp,
                                  capture_output=True, text=True)
            if proc.returncode != 0:
                sys.exit(f"fetch_assets: npm pack {name}@{version} failed: {proc.stderr.strip()[:300]}")
            tgz = Path(tmp) / proc.stdout.strip().splitlines()[-1]
            got = _sha256(tgz.read_bytes())
            if got != tar_sha:
                sys.exit(f"fetch_assets: checksum mismatch for {name}@{version}: expected {tar_sha}, got {got}")
            entry = {"version": version, "tarball_sha256": tar_sha, "files": {}}
            with tarfile.open(tgz) as tar:
                for rel in files:
                    data = tar.extractfile(f"package/{rel}").read()
                    dest = out / name / rel
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    dest.write_bytes(data)
                    entry["files"][rel] = _sha256(data)
            manifest["packages"][name] = entry
            print(f"fetch_assets: {name}@{version} ok ({len(files)} files)")
    (out / "MANIFEST.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="geo/render/assets", type=Path)
    fetch(parser.parse_args().out)


if __name__ == "__main__":
    main()
