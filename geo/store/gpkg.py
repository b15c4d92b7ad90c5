"""The GeoPackage store: one SQLite file that QGIS reads, every version kept.

Per role a feature table ``<role>`` (the current version, typed columns) and
``<role>_history`` (every version, attributes as JSON), plus the attribute tables
``bigcats_versions`` and ``bigcats_project`` (see :class:`geo.store.base.SQLStore`).
A write is one SQLite transaction (``BEGIN IMMEDIATE``). The geometries are
written in the GeoPackage binary encoding (header + ISO WKB).
"""

from __future__ import annotations

import contextlib
import functools
import json
import sqlite3
import struct
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from geo.errors import ReadError
from geo.io import _gdal_write, _json_value, atomic_path
from geo.layers import LAYERS
from geo.store.base import (
    _GEOM_TYPES,
    SQLStore,
    _as_typed,
    _check_columns,
    _check_role,
    _entry,
    _normalised,
    _properties,
    _sql_type,
)

__all__ = ["GeoPackageStore"]


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


class GeoPackageStore(SQLStore):
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

    _VERSIONS = "bigcats_versions"
    _PROJECT = "bigcats_project"
    _MARK = "?"

    @contextlib.contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")  # one writer at a time; the second waits (timeout) or fails cleanly
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:  # SQLite rolls back by itself on a full disk (SQLITE_FULL, SQLITE_IOERR)
                    conn.execute("ROLLBACK")
                raise

    def _rows(self, conn: sqlite3.Connection, role: str, version: int) -> tuple[list, list]:
        rows = conn.execute(
            f'SELECT properties, geom FROM "{role}_history" WHERE version = ? ORDER BY fid', (version,)
        ).fetchall()
        return [r[0] for r in rows], [_gpkg_geom(r[1]) for r in rows]

    def _has_project(self, conn: sqlite3.Connection) -> bool:
        found = conn.execute("SELECT count(*) FROM sqlite_master WHERE type='table' AND name=?", (self._PROJECT,))
        return bool(found.fetchone()[0])

    def _create_project_table(self, conn: sqlite3.Connection) -> None:
        if self._has_project(conn):
            return
        conn.execute(
            f"CREATE TABLE {self._PROJECT} (version INTEGER PRIMARY KEY, "
            "time TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')), source TEXT, checksum TEXT, "
            "note TEXT, toml TEXT NOT NULL, facts TEXT)"
        )
        conn.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, description) "
            f"VALUES ('{self._PROJECT}', 'attributes', '{self._PROJECT}', 'project.toml versions (bigcats)')"
        )

    def write_layer(self, role: str, gdf: gpd.GeoDataFrame, *, provenance: dict) -> int:  # noqa: D102
        _check_role(role)
        gdf = _normalised(gdf, role)
        with self._writing() as conn:
            return self._write(conn, role, gdf, provenance)

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
        cls,
        path: str | Path,
        layers: dict[str, gpd.GeoDataFrame],
        *,
        provenance: dict[str, dict],
        project: tuple[str, str | None, str] | None = None,
    ) -> GeoPackageStore:
        """Create a new GeoPackage store holding ``layers`` as version 1 (atomically).

        ``project`` is ``(project.toml, its facts.csv or None, where they came from)``: version 1 of the project.
        """
        import pyogrio

        path = Path(path)
        with atomic_path(path) as tmp:
            # GeoPackage 1.2: read without warnings by GDAL >= 2.2 (QGIS, Debian's ogrinfo)
            options: dict = {"dataset_options": {"VERSION": "1.2"}}
            for role in dict.fromkeys([*LAYERS, *layers]):
                empty = gpd.GeoDataFrame({"version": pd.Series([], dtype="int64")}, geometry=[], crs="EPSG:4326")
                _gdal_write(path, functools.partial(
                    pyogrio.write_dataframe, empty, tmp, layer=role, driver="GPKG",
                    geometry_type=_GEOM_TYPES[LAYERS[role].geometry], **options
                ), tmp)
                options = {}
                hist = gpd.GeoDataFrame(
                    {"version": pd.Series([], dtype="int64"), "properties": pd.Series([], dtype="object")},
                    geometry=[],
                    crs="EPSG:4326",
                )
                _gdal_write(path, functools.partial(pyogrio.write_dataframe, hist, tmp, layer=f"{role}_history",
                                                    driver="GPKG", geometry_type="Unknown"), tmp)
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
                if project is not None:
                    store._insert_project(conn, project[0], project[1], source=project[2])
                conn.execute("COMMIT")
        return cls(path)

