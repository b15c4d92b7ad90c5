"""The folder store: the GeoJSON layer folder, every version kept under ``.versions/``.

The files in the folder are the current version; every version (the current one
included) is kept under ``.versions/<role>/vNNNN.geojson`` with an index
``.versions/index.json``. A folder that was never written through the store has an
implicit version 1 (its files). Writes hold ``.versions/lock`` (``fcntl.flock``) and
commit by an atomic rename of the index. The project is the folder's ``project.toml``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo.errors import ReadError
from geo.io import atomic_path, file_sha256, write_geojson
from geo.layers import LAYERS
from geo.layers import read_layer as _read_folder_layer
from geo.limits import gdal_path
from geo.project import Project, country_of_role, project_for
from geo.store.base import (
    LayerStore,
    _check_columns,
    _check_role,
    _entry,
    _fault_point,
    _history_frame,
    _normalised,
    mask_url,
)

__all__ = ["FolderStore"]


class FolderStore(LayerStore):
    """A folder of GeoJSON layers; versions under ``.versions/`` (see the module docstring)."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.spec = str(folder)
        if not self.folder.is_dir():
            raise ReadError(
                f"layers folder not found: {mask_url(str(self.folder))}. Run from the project folder, "
                f"or pass --layers with the folder that holds the GeoJSON layers."
            )
        self._vdir = self.folder / ".versions"
        self._recover()

    # index -----------------------------------------------------------------
    def _index(self) -> dict:
        path = self._vdir / "index.json"
        if not path.is_file():
            return {"roles": {}}
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ReadError(f"cannot read the version index {path}: {exc}. Restore it from a backup.") from None

    def _vpath(self, role: str, version: int) -> Path:
        return self._vdir / role / f"v{version:04d}.geojson"

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        self._vdir.mkdir(exist_ok=True)
        with open(self._vdir / "lock", "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _pending(self, role: str, entries: list[dict]) -> dict | None:
        """The folder's file as a version the index does not hold yet, or None.

        That is version 1 of a folder never written through the store, or a file
        changed outside the store (``make layers``, an editor): the folder's file
        is the current version. A file equal to an earlier version is what a write
        killed after its commit leaves behind; then the index is right.
        """
        path = self.folder / LAYERS[role].filename
        if not path.is_file():
            return None
        sha = file_sha256(path)
        if any(sha == e.get("file_sha256") for e in entries):
            return None
        gdf = _read_folder_layer(self.folder, role)
        version = int(entries[-1]["version"]) + 1 if entries else 1
        note = "changed in the folder outside the store" if entries else ""
        entry = _entry(role, gdf, {"source": str(path), "checksum": f"sha256:{sha}"}, version=version, note=note)
        entry["time"] = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).isoformat(timespec="seconds")
        entry["file_sha256"] = sha
        entry["pending"] = True
        return entry

    def _entries(self, role: str, index: dict | None = None) -> list[dict]:
        index = self._index() if index is None else index
        entries = list(index["roles"].get(role) or [])
        pending = self._pending(role, entries)
        return entries + [pending] if pending else entries

    # interface -------------------------------------------------------------
    def project(self) -> Project:  # noqa: D102 - see LayerStore
        return project_for(self.folder)

    def _roles(self) -> set[str]:
        index = self._index()
        candidates = {*self.catalogue(), *(r for r in index["roles"] if r in LAYERS),
                      *(p.stem for p in self.folder.glob("parks_*.geojson") if country_of_role(p.stem))}
        return {r for r in candidates if index["roles"].get(r) or (self.folder / LAYERS[r].filename).is_file()}

    def read_layers(self) -> dict[str, gpd.GeoDataFrame]:  # noqa: D102 - see LayerStore
        if not self._index()["roles"]:
            from geo.layers import load_layers

            return load_layers(self.folder)
        return super().read_layers()

    def read_layer(self, role: str, *, version: int | None = None) -> gpd.GeoDataFrame:  # noqa: D102
        _check_role(role)
        entries = {int(e["version"]): e for e in self._entries(role)}
        if not entries:
            return _read_folder_layer(self.folder, role)  # raises LayerNotFoundError with the fix
        version = max(entries) if version is None else self._check_version(role, version)
        if entries[version].get("pending"):
            return _read_folder_layer(self.folder, role)
        path = self._vpath(role, version)
        try:
            with gdal_path(path) as local:  # the local file, whatever the store's folder is called
                gdf = gpd.read_file(local, engine="pyogrio")
        except Exception as exc:
            raise ReadError(
                f"cannot read version {version} of '{role}' from {path}: {str(exc).splitlines()[0]}."
            ) from None
        if gdf.crs is None:
            gdf = gdf.set_crs("OGC:CRS84")
        return gdf.to_crs("EPSG:4326")

    def history(self, role: str) -> pd.DataFrame:  # noqa: D102
        _check_role(role)
        return _history_frame(self._entries(role))

    def write_layer(self, role: str, gdf: gpd.GeoDataFrame, *, provenance: dict) -> int:  # noqa: D102
        _check_role(role)
        gdf = _normalised(gdf, role)
        _check_columns(gdf, role)
        with self._lock():
            self._recover_locked()
            index = self._index()
            entries = self._entries(role, index)
            if entries and entries[-1].pop("pending", False):  # keep the folder's file as a version first
                with atomic_path(self._vpath(role, int(entries[-1]["version"])), durable=True) as tmp:
                    shutil.copyfile(self.folder / LAYERS[role].filename, tmp)
                _fault_point("pending version copied")
            version = max((int(e["version"]) for e in entries), default=0) + 1
            self._vpath(role, version).parent.mkdir(parents=True, exist_ok=True)
            vpath = write_geojson(gdf, self._vpath(role, version), durable=True)
            _fault_point("version file written")
            try:
                entry = _entry(role, gdf, provenance, version=version)
                entry["file_sha256"] = file_sha256(vpath)
                index["roles"][role] = entries + [entry]
                self._save_index(index)  # the commit point
            except BaseException:
                vpath.unlink(missing_ok=True)
                raise
            _fault_point("index written")
            # The folder's layer and its provenance follow the index; a write killed before they are
            # both in place is finished by the next open (_recover).
            self._publish(role, entry)
        return version

    def _sidecar(self, role: str) -> Path:
        return self.folder / f"{Path(LAYERS[role].filename).stem}.provenance.json"

    def _publish(self, role: str, entry: dict) -> None:
        """Copy version ``entry`` into the folder as the role's layer, then its provenance beside it."""
        version = int(entry["version"])
        with atomic_path(self.folder / LAYERS[role].filename, durable=True) as tmp:
            shutil.copyfile(self._vpath(role, version), tmp)
        _fault_point("layer file replaced")
        # A readable copy of the current version's provenance beside the layer.
        with atomic_path(self._sidecar(role), durable=True) as tmp:
            tmp.write_text(
                json.dumps({**entry["provenance"], "version": version}, indent=2, ensure_ascii=False) + "\n",
                encoding="utf-8",
            )
        _fault_point("provenance written")

    def _stale(self, index: dict) -> list[tuple[str, dict]]:
        """Roles whose folder layer or provenance lags the index: what a write killed after its commit leaves."""
        out = []
        for role, entries in index["roles"].items():
            last = entries[-1] if entries else {}
            if "file_sha256" not in last or not self._vpath(role, int(last["version"])).is_file():
                continue
            path = self.folder / LAYERS[role].filename
            sha = file_sha256(path) if path.is_file() else None
            earlier = {e.get("file_sha256") for e in entries[:-1]}
            if sha != last["file_sha256"] and (sha is None or sha in earlier):
                out.append((role, last))  # the layer is an earlier version: the write did not get to replace it
                continue
            if sha == last["file_sha256"] and "provenance" in last:
                try:
                    version = json.loads(self._sidecar(role).read_text(encoding="utf-8")).get("version")
                except (OSError, ValueError):
                    version = None
                if version != last["version"]:
                    out.append((role, last))
        return out

    def _recover(self) -> None:
        """Finish a write that was killed after its commit (see :meth:`_stale`), under the lock."""
        if (self._vdir / "index.json").is_file() and self._stale(self._index()):
            with self._lock():
                self._recover_locked()

    def _recover_locked(self) -> None:
        for role, entry in self._stale(self._index()):
            self._publish(role, entry)

    def _save_index(self, index: dict) -> None:
        self._vdir.mkdir(exist_ok=True)
        with atomic_path(self._vdir / "index.json", durable=True) as tmp:
            tmp.write_text(json.dumps(index, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")

