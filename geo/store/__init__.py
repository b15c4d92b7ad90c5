"""The layer store: a folder of GeoJSON, a GeoPackage or a PostGIS database, every version kept.

``open_store(spec)`` picks the backend from ``--layers``:

- a folder path: today's GeoJSON layer folder. The files in the folder are the
  current version; every version (the current one included) is kept under
  ``.versions/<role>/vNNNN.geojson`` with an index ``.versions/index.json``.
  A folder that was never written through the store has an implicit version 1
  (its files). Writes hold ``.versions/lock`` (``fcntl.flock``) and commit by
  an atomic rename of the index.
- a ``.gpkg`` path: per role a feature table ``<role>`` (the current version,
  typed columns, readable by QGIS) and ``<role>_history`` (every version,
  attributes as JSON), plus the attribute table ``bigcats_versions``. A write is
  one SQLite transaction (``BEGIN IMMEDIATE``).
- ``postgresql://user@host:port/db``: the same tables in the schema ``bigcats``,
  geometry columns typed (``geometry(MultiPolygon, 4326)``...) with GiST
  indexes. A write is one transaction serialised by an advisory lock. The
  password comes from ``PGPASSWORD`` or ``~/.pgpass`` (libpq) and is never shown.

Nothing is overwritten: ``write_layer`` and ``rollback`` add a version.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import re
import shutil
import sqlite3
import struct
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import DataError, LayerNotFoundError, ReadError, UsageError
from geo.io import _gdal_write, _json_value, atomic_path, file_sha256, fsync_path, to_geojson_dict, write_geojson
from geo.layers import LAYERS, Catalogue, catalogue
from geo.limits import gdal_path
from geo.layers import read_layer as _read_folder_layer
from geo.project import PROJECT_FILE, country_of_role
from geo.measure import M2_PER_HA, geodesic_area_m2

__all__ = [
    "FolderStore",
    "GeoPackageStore",
    "HISTORY_COLUMNS",
    "LayerStore",
    "PostGISStore",
    "init_store",
    "mask_url",
    "open_store",
]

#: Columns of :meth:`LayerStore.history`.
HISTORY_COLUMNS = ("version", "time", "source", "checksum", "feature_count", "area_ha", "note")

_COLUMN_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_GEOM_TYPES = {"polygon": "MultiPolygon", "line": "MultiLineString", "point": "Point"}
_PG_SCHEMA = "bigcats"
_PG_LOCK_KEY = 0x6269_6763_6174  # "bigcat": one advisory lock for every write to the store


# --------------------------------------------------------------------------- helpers


def mask_url(text: str) -> str:
    """Return ``text`` with every password in it replaced by ``***``.

    Covers ``scheme://user:password@host`` (an ``@`` or a bad ``%`` escape in the
    password too: everything up to the last ``@`` of the URL), ``?password=...`` /
    ``&password=...`` in a URL's query and ``password=...`` in a libpq ``key=value``
    connection string (quoted or not).
    """
    text = re.sub(r"(://[^:/@\s]*:)\S*@", r"\1***@", str(text))
    return re.sub(r"(?i)\b(password|passwd|pwd)(\s*=\s*)('(?:[^'\\]|\\.)*'?|[^\s&'\"]+)", r"\1\2***", text)


_FAULT_COUNT = [0]


def _fault_point(step: str) -> None:
    """Fault injection for the tests: ``BIGCATS_FAULT_STEP=N`` kills this process (SIGKILL) at the N-th write step.

    Every durable step of a folder-store write calls it once, after the step;
    tests/test_hostile.py kills a writer at each step in turn and checks the store.
    """
    target = os.environ.get("BIGCATS_FAULT_STEP")
    if not target:
        return
    _FAULT_COUNT[0] += 1
    if _FAULT_COUNT[0] == int(target):
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


def _check_role(role: str) -> str:
    if role not in LAYERS:
        raise UsageError(f"unknown role {role!r}: use one of {', '.join(LAYERS)}.")
    return role


def _check_columns(gdf: gpd.GeoDataFrame, role: str) -> list[str]:
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    bad = [c for c in columns if not isinstance(c, str) or not _COLUMN_RE.match(c) or c.lower() in ("fid", "geom")]
    if bad:
        raise DataError(
            f"layer '{role}' has column names the store cannot hold: {', '.join(map(repr, bad))}. "
            "Rename them to letters, digits and '_' (not 'fid' or 'geom') before importing."
        )
    return columns


def _normalised(gdf: gpd.GeoDataFrame, role: str) -> gpd.GeoDataFrame:
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise UsageError(f"write_layer needs a GeoDataFrame for '{role}', got {type(gdf).__name__}.")
    if gdf.crs is None:
        raise DataError(f"layer '{role}' has no CRS; set the CRS it was made in before writing it to the store.")
    gdf = gdf.to_crs("EPSG:4326")
    if gdf.geometry.name != "geometry":
        gdf = gdf.rename_geometry("geometry")
    return gdf.reset_index(drop=True)


def _layer_sha256(gdf: gpd.GeoDataFrame) -> str:
    data = json.dumps(to_geojson_dict(gdf), ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def _area_ha(gdf: gpd.GeoDataFrame, role: str) -> float | None:
    if LAYERS[role].geometry != "polygon" or len(gdf) == 0:
        return None if LAYERS[role].geometry != "polygon" else 0.0
    return float(np.nansum(geodesic_area_m2(gdf))) / M2_PER_HA


def _entry(role: str, gdf: gpd.GeoDataFrame, provenance: dict, *, version: int, note: str = "") -> dict:
    layer_sha = _layer_sha256(gdf)
    return {
        "version": int(version),
        "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "source": str(provenance.get("source") or provenance.get("source_file") or ""),
        "checksum": str(provenance.get("checksum") or provenance.get("sha256") or f"sha256:{layer_sha}"),
        "feature_count": int(len(gdf)),
        "area_ha": _area_ha(gdf, role),
        "note": note or str(provenance.get("note") or ""),
        "layer_sha256": layer_sha,
        "columns": [c for c in gdf.columns if c != gdf.geometry.name],
        "provenance": {k: _json_value(v) for k, v in provenance.items()},
    }


def _history_frame(entries: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame([{k: e.get(k) for k in HISTORY_COLUMNS} for e in entries], columns=list(HISTORY_COLUMNS))
    return frame.sort_values("version").reset_index(drop=True)


def _properties(gdf: gpd.GeoDataFrame, columns: list[str]) -> list[str]:
    rows = gdf[columns].itertuples(index=False, name=None) if columns else ([] for _ in range(len(gdf)))
    return [
        json.dumps({c: _json_value(v) for c, v in zip(columns, row, strict=True)}, ensure_ascii=False) for row in rows
    ]


def _frame(props: list, geoms: list, columns: list[str]) -> gpd.GeoDataFrame:
    records = [json.loads(p) if isinstance(p, str) else (p or {}) for p in props]
    data = pd.DataFrame.from_records(records, columns=columns) if records else pd.DataFrame(columns=columns)
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(list(geoms), crs="EPSG:4326").values, crs="EPSG:4326")


def _as_typed(geom, role: str):
    """Promote a geometry to the typed column's geometry type (MultiPolygon, MultiLineString, Point)."""
    if geom is None or geom.is_empty:
        return None
    kind = LAYERS[role].geometry
    if kind == "polygon" and geom.geom_type == "Polygon":
        return shapely.MultiPolygon([geom])
    if kind == "line" and geom.geom_type == "LineString":
        return shapely.MultiLineString([geom])
    expected = _GEOM_TYPES[kind]
    if geom.geom_type != expected:
        raise DataError(
            f"layer '{role}' holds a {geom.geom_type}; the store's '{role}' table holds {expected} geometries."
        )
    return geom


def _sql_type(series: pd.Series, *, postgres: bool) -> str:
    if pd.api.types.is_bool_dtype(series):
        return "boolean" if postgres else "BOOLEAN"
    if pd.api.types.is_integer_dtype(series):
        return "bigint" if postgres else "INTEGER"
    if pd.api.types.is_float_dtype(series):
        return "double precision" if postgres else "REAL"
    return "text" if postgres else "TEXT"


# --------------------------------------------------------------------------- interface


class LayerStore(ABC):
    """Where the layers live, with every version of each role kept."""

    spec: str

    def catalogue(self) -> Catalogue:
        """The roles of the store's project (a folder's ``project.toml``, else the bundled project)."""
        return catalogue(None)

    def read_layers(self) -> dict[str, gpd.GeoDataFrame]:
        """Read the current version of every role of the store's project (EPSG:4326).

        The roles are those of :meth:`catalogue`, then any other park role the store holds.

        Raises
        ------
        LayerNotFoundError
            If a required role has no version in the store.
        """
        layers = {}
        present = self._roles()
        roles = self.catalogue()
        extra = sorted(r for r in present if r not in set(roles) and country_of_role(r) is not None)
        for role, spec in [*roles.items(), *((r, roles[r]) for r in extra)]:
            if role not in present:
                if spec.required:
                    raise LayerNotFoundError(
                        f"layer '{role}' is missing from the store {mask_url(self.spec)}. "
                        f"Import one with 'bigcats import FILE --role {role} --layers {mask_url(self.spec)}'."
                    )
                continue
            layers[role] = self.read_layer(role)
        return layers

    @abstractmethod
    def _roles(self) -> set[str]:
        """Roles with at least one version."""

    @abstractmethod
    def read_layer(self, role: str, *, version: int | None = None) -> gpd.GeoDataFrame:
        """Read one role: the current version, or ``version``."""

    @abstractmethod
    def write_layer(self, role: str, gdf: gpd.GeoDataFrame, *, provenance: dict) -> int:
        """Add ``gdf`` as a new version of ``role``, all or nothing; return the version number.

        Parameters
        ----------
        role : str
            A key of :data:`geo.layers.LAYERS`.
        gdf : GeoDataFrame
            The normalised layer, any CRS (stored in EPSG:4326).
        provenance : dict
            ``source`` (file name) and ``checksum`` (of the source file) are shown
            by :meth:`history`; every key is kept.
        """

    @abstractmethod
    def history(self, role: str) -> pd.DataFrame:
        """Versions of ``role``: version, time, source, checksum, feature_count, area_ha (geodesic), note."""

    def current_version(self, role: str) -> int:
        """The number of the current version of ``role``."""
        hist = self.history(role)
        if hist.empty:
            raise LayerNotFoundError(f"layer '{role}' has no version in the store {mask_url(self.spec)}.")
        return int(hist["version"].max())

    def _check_version(self, role: str, version: int) -> int:
        versions = [int(v) for v in self.history(role)["version"]]
        if int(version) not in versions:
            raise UsageError(
                f"version {version} of '{role}' does not exist in {mask_url(self.spec)}; "
                f"versions are {', '.join(map(str, versions)) or 'none'} (see 'bigcats history {role}')."
            )
        return int(version)

    def rollback(self, role: str, version: int) -> int:
        """Make ``version`` of ``role`` current again, as a new version; return its number."""
        _check_role(role)
        version = self._check_version(role, version)
        gdf = self.read_layer(role, version=version)
        row = self.history(role).set_index("version").loc[version]
        provenance = {"source": row["source"], "checksum": row["checksum"], "note": f"rollback to version {version}"}
        return self.write_layer(role, gdf, provenance=provenance)

    def diff(self, role: str, v1: int, v2: int) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
        """What changed in ``role`` from version ``v1`` to ``v2``.

        Features are matched by ``id`` (by position if the layer has no ``id``).

        Returns
        -------
        parts : GeoDataFrame
            The changed parts, EPSG:4326: ``id``, ``change`` (``gained``/``lost``), ``area_ha``.
        table : DataFrame
            One row per feature: ``id``, ``status`` (added, removed, changed,
            unchanged), ``gained_ha``, ``lost_ha``, ``net_ha`` (geodesic, WGS84).
        """
        _check_role(role)
        if LAYERS[role].geometry != "polygon":
            raise UsageError(
                f"diff measures areas; '{role}' is a {LAYERS[role].geometry} layer. Use a park or country role."
            )
        a = self.read_layer(role, version=self._check_version(role, v1))
        b = self.read_layer(role, version=self._check_version(role, v2))
        return diff_layers(a, b)


def _by_id(gdf: gpd.GeoDataFrame) -> dict:
    keys = gdf["id"].astype(str) if "id" in gdf.columns else pd.Series(range(len(gdf))).astype(str)
    out: dict = {}
    for key, geom in zip(keys, gdf.geometry.array, strict=True):
        if geom is not None and not geom.is_empty:
            out[key] = shapely.union(out[key], geom) if key in out else geom
        else:
            out.setdefault(key, None)
    return out


def diff_layers(before: gpd.GeoDataFrame, after: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Per-feature area gained and lost between two versions of a polygon layer (see :meth:`LayerStore.diff`)."""
    a, b = _by_id(before.to_crs("EPSG:4326")), _by_id(after.to_crs("EPSG:4326"))
    empty = shapely.Polygon()
    rows, parts = [], []
    for key in list(a) + [k for k in b if k not in a]:
        ga, gb = a.get(key) or empty, b.get(key) or empty
        gained, lost = shapely.difference(gb, ga), shapely.difference(ga, gb)
        areas = geodesic_area_m2(gpd.GeoSeries([gained, lost], crs="EPSG:4326"))
        gained_ha, lost_ha = (0.0 if np.isnan(x) else float(x) / M2_PER_HA for x in areas)
        if key not in a:
            status = "added"
        elif key not in b:
            status = "removed"
        else:
            status = "unchanged" if shapely.equals(ga, gb) or (gained_ha == 0 and lost_ha == 0) else "changed"
        rows.append(
            {"id": key, "status": status, "gained_ha": gained_ha, "lost_ha": lost_ha, "net_ha": gained_ha - lost_ha}
        )
        for change, geom, area in (("gained", gained, gained_ha), ("lost", lost, lost_ha)):
            if not geom.is_empty and area > 0:
                parts.append({"id": key, "change": change, "area_ha": area, "geometry": geom})
    table = pd.DataFrame(rows, columns=["id", "status", "gained_ha", "lost_ha", "net_ha"])
    parts_gdf = gpd.GeoDataFrame(
        parts, columns=["id", "change", "area_ha", "geometry"], geometry="geometry", crs="EPSG:4326"
    )
    return parts_gdf, table


# --------------------------------------------------------------------------- folder


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
    def catalogue(self) -> Catalogue:  # noqa: D102 - see LayerStore
        return catalogue(self.folder)

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
            if not entries or "file_sha256" not in entries[-1] or not self._vpath(role, int(entries[-1]["version"])).is_file():
                continue
            last = entries[-1]
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


# --------------------------------------------------------------------------- GeoPackage


def _gpkg_blob(geom, srs_id: int = 4326) -> bytes | None:
    """Encode a geometry as a GeoPackage binary (header with an XY envelope + ISO WKB)."""
    if geom is None or geom.is_empty:
        return None
    minx, miny, maxx, maxy = geom.bounds
    return (
        b"GP\x00\x03"
        + struct.pack("<i4d", srs_id, minx, maxx, miny, maxy)
        + shapely.to_wkb(geom, byte_order=1, flavor="iso")
    )


def _gpkg_header(blob: bytes) -> tuple[int, tuple | None]:
    flags = blob[3]
    little = flags & 1
    env = (flags >> 1) & 7
    size = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}[env]
    envelope = struct.unpack(("<" if little else ">") + "4d", blob[8:40]) if size else None
    return 8 + size, envelope


def _gpkg_geom(blob):
    if blob is None:
        return None
    offset, _ = _gpkg_header(blob)
    if blob[3] & 0x10:
        return None
    return shapely.from_wkb(bytes(blob[offset:]))


def _st(index: int):
    def fn(blob):
        if blob is None:
            return None
        _, env = _gpkg_header(blob)
        if env is None:
            geom = _gpkg_geom(blob)
            if geom is None:
                return None
            b = geom.bounds
            env = (b[0], b[2], b[1], b[3])
        return env[index]

    return fn


def _st_isempty(blob):
    return None if blob is None else int(bool(blob[3] & 0x10))


class GeoPackageStore(LayerStore):
    """A GeoPackage file: ``<role>`` (current), ``<role>_history`` and ``bigcats_versions`` tables."""

    def __init__(self, path: str | Path, *, must_exist: bool = True) -> None:
        self.path = Path(path)
        self.spec = str(path)
        if must_exist:
            if not self.path.is_file():
                raise ReadError(
                    f"GeoPackage store not found: {self.path}. Create it with 'bigcats init --layers {self.path}'."
                )
            with self._connect() as conn:
                ok = conn.execute(
                    "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='bigcats_versions'"
                ).fetchone()[0]
            if not ok:
                raise ReadError(
                    f"{self.path} is a GeoPackage but not a bigcats layer store (no bigcats_versions table). "
                    "Create a store with 'bigcats init --layers NEW.gpkg', or import its layers."
                )

    @contextlib.contextmanager
    def _connect(self, path: Path | None = None) -> Iterator[sqlite3.Connection]:
        try:
            conn = sqlite3.connect(path or self.path, timeout=60, isolation_level=None)
        except sqlite3.Error as exc:
            raise ReadError(f"cannot open the GeoPackage {self.path}: {exc}.") from None
        try:
            conn.create_function("ST_IsEmpty", 1, _st_isempty, deterministic=True)
            for i, name in enumerate(("ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY")):
                conn.create_function(name, 1, _st(i), deterministic=True)
            yield conn
        except sqlite3.DatabaseError as exc:
            from geo.limits import no_room_reason

            room = no_room_reason(self.path, exc)
            hint = (" Another write is running: retry when it ends." if "locked" in str(exc) else
                    f" No room to write: {room}; free space on the disk, then retry." if room else "")
            raise ReadError(f"the GeoPackage store {self.path} failed: {exc}; nothing was written.{hint}") from None
        finally:
            conn.close()

    def _roles(self) -> set[str]:
        with self._connect() as conn:
            return {r for (r,) in conn.execute("SELECT DISTINCT role FROM bigcats_versions")}

    def _entries(self, conn: sqlite3.Connection, role: str) -> list[dict]:
        cur = conn.execute(
            "SELECT version, time, source, checksum, feature_count, area_ha, note, columns "
            "FROM bigcats_versions WHERE role = ? ORDER BY version",
            (role,),
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur]

    def history(self, role: str) -> pd.DataFrame:  # noqa: D102
        _check_role(role)
        with self._connect() as conn:
            return _history_frame(self._entries(conn, role))

    def read_layer(self, role: str, *, version: int | None = None) -> gpd.GeoDataFrame:  # noqa: D102
        _check_role(role)
        with self._connect() as conn:
            entries = {int(e["version"]): e for e in self._entries(conn, role)}
            if not entries:
                raise LayerNotFoundError(f"layer '{role}' has no version in the store {self.path}.")
            version = max(entries) if version is None else self._check_version(role, version)
            rows = conn.execute(
                f'SELECT properties, geom FROM "{role}_history" WHERE version = ? ORDER BY fid', (version,)
            ).fetchall()
        columns = json.loads(entries[version]["columns"])
        return _frame([r[0] for r in rows], [_gpkg_geom(r[1]) for r in rows], columns)

    def write_layer(self, role: str, gdf: gpd.GeoDataFrame, *, provenance: dict) -> int:  # noqa: D102
        _check_role(role)
        gdf = _normalised(gdf, role)
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")  # one writer at a time; the second waits (timeout) or fails cleanly
            try:
                version = self._write(conn, role, gdf, provenance)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:  # SQLite rolls back by itself on a full disk (SQLITE_FULL, SQLITE_IOERR)
                    conn.execute("ROLLBACK")
                raise
        return version

    def _write(
        self, conn: sqlite3.Connection, role: str, gdf: gpd.GeoDataFrame, provenance: dict, *, note: str = ""
    ) -> int:
        columns = _check_columns(gdf, role)
        version = conn.execute(
            "SELECT coalesce(max(version), 0) + 1 FROM bigcats_versions WHERE role = ?", (role,)
        ).fetchone()[0]
        entry = _entry(role, gdf, provenance, version=version, note=note)
        props = _properties(gdf, columns)
        geoms = list(gdf.geometry.array)
        conn.executemany(
            f'INSERT INTO "{role}_history" (version, properties, geom) VALUES (?, ?, ?)',
            [(version, p, _gpkg_blob(g)) for p, g in zip(props, geoms, strict=True)],
        )
        # the current table: typed columns (added when new), rows replaced
        existing = {row[1].lower() for row in conn.execute(f'PRAGMA table_info("{role}")')}
        for c in columns:
            if c.lower() not in existing:
                conn.execute(f'ALTER TABLE "{role}" ADD COLUMN "{c}" {_sql_type(gdf[c], postgres=False)}')
        conn.execute(f'DELETE FROM "{role}"')
        quoted = "".join(f', "{c}"' for c in columns)
        marks = ", ?" * len(columns)
        values = [
            tuple(_json_value(v) for v in row) + (_gpkg_blob(_as_typed(g, role)),)
            for row, g in zip(gdf[columns].itertuples(index=False, name=None), geoms, strict=True)
        ]
        conn.executemany(
            f'INSERT INTO "{role}" (version{quoted}, geom) VALUES (?{marks}, ?)', [(version,) + v for v in values]
        )
        bounds = gdf.total_bounds if len(gdf) else [None] * 4
        conn.execute(
            "UPDATE gpkg_contents SET last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now'), "
            "min_x = ?, min_y = ?, max_x = ?, max_y = ? WHERE table_name IN (?, ?)",
            (*[None if b is None else float(b) for b in bounds], role, f"{role}_history"),
        )
        conn.execute(
            "INSERT INTO bigcats_versions (role, version, time, source, checksum, feature_count, area_ha, note, "
            "layer_sha256, columns, provenance) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                role,
                version,
                entry["time"],
                entry["source"],
                entry["checksum"],
                entry["feature_count"],
                entry["area_ha"],
                entry["note"],
                entry["layer_sha256"],
                json.dumps(entry["columns"]),
                json.dumps(entry["provenance"]),
            ),
        )
        return version

    @classmethod
    def create(
        cls, path: str | Path, layers: dict[str, gpd.GeoDataFrame], *, provenance: dict[str, dict]
    ) -> GeoPackageStore:
        """Create a new GeoPackage store holding ``layers`` as version 1 (atomically)."""
        import pyogrio

        path = Path(path)
        with atomic_path(path) as tmp:
            # GeoPackage 1.2: read without warnings by GDAL >= 2.2 (QGIS, Debian's ogrinfo)
            options: dict = {"dataset_options": {"VERSION": "1.2"}}
            for role in dict.fromkeys([*LAYERS, *layers]):
                empty = gpd.GeoDataFrame({"version": pd.Series([], dtype="int64")}, geometry=[], crs="EPSG:4326")
                _gdal_write(path, lambda: pyogrio.write_dataframe(
                    empty, tmp, layer=role, driver="GPKG", geometry_type=_GEOM_TYPES[LAYERS[role].geometry], **options
                ), tmp)
                options = {}
                hist = gpd.GeoDataFrame(
                    {"version": pd.Series([], dtype="int64"), "properties": pd.Series([], dtype="object")},
                    geometry=[],
                    crs="EPSG:4326",
                )
                _gdal_write(path, lambda: pyogrio.write_dataframe(hist, tmp, layer=f"{role}_history", driver="GPKG",
                                                                  geometry_type="Unknown"), tmp)
            store = cls(tmp, must_exist=False)
            with store._connect() as conn:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute(
                    "CREATE TABLE bigcats_versions (id INTEGER PRIMARY KEY AUTOINCREMENT, role TEXT NOT NULL, "
                    "version INTEGER NOT NULL, time TEXT NOT NULL, source TEXT, checksum TEXT, feature_count INTEGER, "
                    "area_ha REAL, note TEXT, layer_sha256 TEXT, columns TEXT, provenance TEXT, UNIQUE (role, version))"
                )
                conn.execute(
                    "INSERT INTO gpkg_contents (table_name, data_type, identifier, description) "
                    "VALUES ('bigcats_versions', 'attributes', 'bigcats_versions', 'layer versions (bigcats)')"
                )
                for role, gdf in layers.items():
                    g = _normalised(gdf, role)
                    store._write(conn, role, g, provenance.get(role, {}))
                    conn.execute(f'CREATE INDEX "{role}_history_version" ON "{role}_history" (version)')
                conn.execute("COMMIT")
        return cls(path)


# --------------------------------------------------------------------------- PostGIS


class PostGISStore(LayerStore):
    """A PostGIS database: tables ``bigcats.<role>`` (current), ``bigcats.<role>_history``, ``bigcats.versions``."""

    def __init__(self, url: str, *, must_exist: bool = True) -> None:
        self.url = url
        self.spec = url
        if must_exist:
            with self._connect() as conn:
                found = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"{_PG_SCHEMA}.versions",)).fetchone()[0]
            if not found:
                raise ReadError(
                    f"no bigcats layer store at {mask_url(url)} (schema '{_PG_SCHEMA}' has no versions table). "
                    f"Create it with 'bigcats init --layers {mask_url(url)}'."
                )

    @contextlib.contextmanager
    def _connect(self) -> Iterator:
        try:
            import psycopg
        except ImportError:  # pragma: no cover - psycopg is a dependency
            raise UsageError("PostGIS stores need psycopg: pip install 'psycopg[binary]'.") from None
        try:
            conn = psycopg.connect(self.url, connect_timeout=10, application_name="bigcats")
        except psycopg.Error as exc:
            raise ReadError(
                f"cannot connect to {mask_url(self.url)}: {self._clean(exc)}. Check the URL, that the server runs, "
                "and the password in PGPASSWORD or ~/.pgpass."
            ) from None
        try:
            with conn:  # commits on success, rolls back on an exception
                yield conn
        except psycopg.Error as exc:
            raise ReadError(f"the PostGIS store {mask_url(self.url)} failed: {self._clean(exc)}.") from None
        finally:
            conn.close()

    def _clean(self, exc: BaseException) -> str:
        text = (str(exc).strip() or type(exc).__name__).splitlines()[0]
        for password in (os.environ.get("PGPASSWORD"), *self._url_passwords()):
            if password:
                text = text.replace(password, "***")
        return mask_url(text)

    def _url_passwords(self) -> list[str]:
        """The password written in the store's URL or conninfo (as written and percent-decoded), to mask it anywhere."""
        from urllib.parse import unquote

        found = re.findall(r"://[^:/@\s]*:(\S*)@", self.url) + re.findall(r"(?i)\bpassword\s*=\s*'?([^\s&']+)", self.url)
        # libpq takes a URL's host from the first "@": the rest of a password holding "@" shows up as a host name
        pieces = [p for raw in found for p in {raw, unquote(raw)}]
        pieces += ["@".join(p.split("@")[i:]) for p in list(pieces) for i in range(1, p.count("@") + 1)]
        return sorted((p for p in set(pieces) if len(p) >= 3), key=len, reverse=True)

    @staticmethod
    def _t(name: str):
        from psycopg import sql

        return sql.Identifier(_PG_SCHEMA, name)

    def _roles(self) -> set[str]:
        with self._connect() as conn:
            return {r for (r,) in conn.execute(f"SELECT DISTINCT role FROM {_PG_SCHEMA}.versions")}

    def _entries(self, conn, role: str) -> list[dict]:
        cur = conn.execute(
            f"SELECT version, time, source, checksum, feature_count, area_ha, note, columns "
            f"FROM {_PG_SCHEMA}.versions WHERE role = %s ORDER BY version",
            (role,),
        )
        names = [d.name for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur]

    def history(self, role: str) -> pd.DataFrame:  # noqa: D102
        _check_role(role)
        with self._connect() as conn:
            entries = self._entries(conn, role)
        for e in entries:
            e["time"] = e["time"].isoformat(timespec="seconds")
        return _history_frame(entries)

    def read_layer(self, role: str, *, version: int | None = None) -> gpd.GeoDataFrame:  # noqa: D102
        from psycopg import sql

        _check_role(role)
        with self._connect() as conn:
            entries = {int(e["version"]): e for e in self._entries(conn, role)}
            if not entries:
                raise LayerNotFoundError(f"layer '{role}' has no version in the store {mask_url(self.url)}.")
            if version is None:
                version = max(entries)
            elif int(version) not in entries:
                self._check_version(role, version)
            rows = conn.execute(
                sql.SQL("SELECT properties, ST_AsBinary(geom) FROM {} WHERE version = %s ORDER BY fid").format(
                    self._t(f"{role}_history")
                ),
                (int(version),),
            ).fetchall()
        columns = entries[int(version)]["columns"]
        return _frame(
            [r[0] for r in rows], [None if r[1] is None else shapely.from_wkb(bytes(r[1])) for r in rows], columns
        )

    def write_layer(self, role: str, gdf: gpd.GeoDataFrame, *, provenance: dict) -> int:  # noqa: D102
        _check_role(role)
        gdf = _normalised(gdf, role)
        with self._connect() as conn:
            return self._write(conn, role, gdf, provenance)

    def _write(self, conn, role: str, gdf: gpd.GeoDataFrame, provenance: dict) -> int:
        from psycopg import sql
        from psycopg.types.json import Jsonb

        columns = _check_columns(gdf, role)
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_PG_LOCK_KEY,))  # writers queue here, one at a time
        version = conn.execute(
            f"SELECT coalesce(max(version), 0) + 1 FROM {_PG_SCHEMA}.versions WHERE role = %s", (role,)
        ).fetchone()[0]
        entry = _entry(role, gdf, provenance, version=version)
        geoms = list(gdf.geometry.array)
        wkb = [None if g is None or g.is_empty else shapely.to_wkb(g, flavor="iso") for g in geoms]
        props = _properties(gdf, columns)
        with conn.cursor() as cur:
            cur.executemany(
                sql.SQL(
                    "INSERT INTO {} (version, properties, geom) VALUES (%s, %s::jsonb, ST_GeomFromWKB(%s, 4326))"
                ).format(self._t(f"{role}_history")),
                [(version, p, w) for p, w in zip(props, wkb, strict=True)],
            )
            # the current table is rebuilt in the same transaction: typed columns, typed geometry, GiST index
            self._create_current(cur, role, {c: _sql_type(gdf[c], postgres=True) for c in columns})
            typed = [None if g is None else shapely.to_wkb(_as_typed(g, role), flavor="iso") for g in geoms]
            cols = sql.SQL(", ").join(
                [sql.Identifier("version"), *map(sql.Identifier, columns), sql.Identifier("geom")]
            )
            marks = sql.SQL(", ").join([sql.Placeholder()] * (len(columns) + 1) + [sql.SQL("ST_GeomFromWKB(%s, 4326)")])
            cur.executemany(
                sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(self._t(role), cols, marks),
                [
                    (version, *(_json_value(v) for v in row), t)
                    for row, t in zip(gdf[columns].itertuples(index=False, name=None), typed, strict=True)
                ],
            )
            cur.execute(
                f"INSERT INTO {_PG_SCHEMA}.versions (role, version, source, checksum, feature_count, area_ha, note, "
                "layer_sha256, columns, provenance) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    role,
                    version,
                    entry["source"],
                    entry["checksum"],
                    entry["feature_count"],
                    entry["area_ha"],
                    entry["note"],
                    entry["layer_sha256"],
                    Jsonb(entry["columns"]),
                    Jsonb(entry["provenance"]),
                ),
            )
        return version

    def _create_current(self, cur, role: str, columns: dict[str, str]) -> None:
        from psycopg import sql

        cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(self._t(role)))
        defs = [sql.SQL("fid serial PRIMARY KEY"), sql.SQL("version integer NOT NULL")]
        defs += [sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t)) for c, t in columns.items()]
        defs.append(sql.SQL("geom geometry({}, 4326)").format(sql.SQL(_GEOM_TYPES[LAYERS[role].geometry])))
        cur.execute(sql.SQL("CREATE TABLE {} ({})").format(self._t(role), sql.SQL(", ").join(defs)))
        cur.execute(
            sql.SQL("CREATE INDEX {} ON {} USING GIST (geom)").format(
                sql.Identifier(f"{role}_geom_gist"), self._t(role)
            )
        )

    @classmethod
    def create(cls, url: str, layers: dict[str, gpd.GeoDataFrame], *, provenance: dict[str, dict]) -> PostGISStore:
        """Create the ``bigcats`` schema, its tables and indexes, and load ``layers`` as version 1 (one transaction)."""
        from psycopg import sql

        store = cls(url, must_exist=False)
        with store._connect() as conn:
            if conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname = %s", (_PG_SCHEMA,)).fetchone()[0]:
                raise UsageError(
                    f"{mask_url(url)} already has a '{_PG_SCHEMA}' schema; init refuses to touch an existing store. "
                    "Use it as it is (bigcats history ROLE --layers URL), or drop the schema first."
                )
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(_PG_SCHEMA)))
            conn.execute(
                f"CREATE TABLE {_PG_SCHEMA}.versions (role text NOT NULL, version integer NOT NULL, "
                "time timestamptz NOT NULL DEFAULT now(), source text, checksum text, feature_count integer, "
                "area_ha double precision, note text, layer_sha256 text, columns jsonb, provenance jsonb, "
                "PRIMARY KEY (role, version))"
            )
            for role in dict.fromkeys([*LAYERS, *layers]):
                hist = store._t(f"{role}_history")
                conn.execute(
                    sql.SQL(
                        "CREATE TABLE {} (fid bigserial PRIMARY KEY, version integer NOT NULL, properties jsonb, "
                        "geom geometry(Geometry, 4326))"
                    ).format(hist)
                )
                conn.execute(
                    sql.SQL("CREATE INDEX {} ON {} (version)").format(sql.Identifier(f"{role}_history_version"), hist)
                )
                conn.execute(
                    sql.SQL("CREATE INDEX {} ON {} USING GIST (geom)").format(
                        sql.Identifier(f"{role}_history_geom_gist"), hist
                    )
                )
                with conn.cursor() as cur:
                    store._create_current(cur, role, {})
            for role, gdf in layers.items():
                store._write(conn, role, _normalised(gdf, role), provenance.get(role, {}))
        return cls(url)


# --------------------------------------------------------------------------- opening


def _is_url(spec: str) -> bool:
    """A PostGIS store: a ``postgresql://`` URL, or a libpq ``key=value`` connection string (``dbname=... host=...``)."""
    spec = str(spec)
    return spec.startswith(("postgresql://", "postgres://")) or bool(
        re.fullmatch(r"\s*(\w+\s*=\s*('(?:[^'\\]|\\.)*'|\S+)\s*)+", spec) and re.search(r"\b(dbname|host)\s*=", spec)
    )


def open_store(spec: str | Path) -> LayerStore:
    """Open the layer store named by ``--layers``.

    Parameters
    ----------
    spec : str or Path
        A folder of GeoJSON layers, a ``.gpkg`` file, or a
        ``postgresql://user@host:port/db`` URL (password from ``PGPASSWORD`` or
        ``~/.pgpass``; never put in messages).

    Raises
    ------
    ReadError
        If the store does not exist or cannot be opened.
    """
    spec = str(spec)
    if _is_url(spec):
        return PostGISStore(spec)
    if spec.lower().endswith(".gpkg"):
        return GeoPackageStore(spec)
    return FolderStore(spec)


def init_store(spec: str | Path, source_dir: str | Path) -> LayerStore:
    """Create a new store at ``spec`` and load the layers of the folder ``source_dir`` as version 1.

    Raises
    ------
    UsageError
        If a store (or any file or folder) already exists at ``spec``.
    """
    from geo.layers import load_layers

    spec = str(spec)
    if not _is_url(spec) and Path(spec).exists():
        raise UsageError(f"{spec} already exists; init refuses to touch an existing store. Choose a new path.")
    src = Path(source_dir)
    layers = load_layers(src)
    provenance = {
        role: {
            "source": str(src / LAYERS[role].filename),
            "checksum": "sha256:" + file_sha256(src / LAYERS[role].filename),
        }
        for role in layers
    }
    if _is_url(spec):
        return PostGISStore.create(spec, layers, provenance=provenance)
    if spec.lower().endswith(".gpkg"):
        return GeoPackageStore.create(spec, layers, provenance=provenance)
    dest = Path(spec)
    tmp = dest.with_name(f".{dest.name}.init.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        for name in [LAYERS[role].filename for role in layers] + ["provenance.json", PROJECT_FILE, "facts.csv"]:
            if (src / name).is_file():
                shutil.copyfile(src / name, tmp / name)
                fsync_path(tmp / name)
        store = FolderStore(tmp)
        index = store._index()
        for role in layers:  # version 1 is the copied file
            entry = store._pending(role, [])
            del entry["pending"]
            entry["source"], entry["checksum"] = provenance[role]["source"], provenance[role]["checksum"]
            with atomic_path(store._vpath(role, 1), durable=True) as t:
                shutil.copyfile(tmp / LAYERS[role].filename, t)
            index["roles"][role] = [entry]
        store._save_index(index)
        fsync_path(tmp)
        os.rename(tmp, dest)
        fsync_path(dest.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return FolderStore(dest)
