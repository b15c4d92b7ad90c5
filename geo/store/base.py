"""What every layer store shares: the interface, the version entries, the SQL stores' history and project.

:class:`LayerStore` is the interface (read, write, history, rollback, diff);
:class:`SQLStore` is what the GeoPackage and the PostGIS store share: the
versions table, reading a version back, and the project table (``project.toml``
kept in the store, one row per version, listed by ``history("project")``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
from abc import ABC, abstractmethod
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import DataError, LayerNotFoundError, UsageError
from geo.facts import Fact, read_facts_text
from geo.io import _json_value, to_geojson_dict
from geo.layers import LAYERS, Catalogue, catalogue
from geo.lonlat import require_lonlat
from geo.measure import M2_PER_HA, geodesic_area_m2
from geo.project import Project, bundled_project, country_of_role, read_project_text
from geo.store.diff import diff_layers

__all__ = ["HISTORY_COLUMNS", "PROJECT_ROLE", "LayerStore", "SQLStore", "diff_layers", "mask_url"]

#: The name under which :meth:`LayerStore.history` lists the versions of the store's project.
PROJECT_ROLE = "project"

#: Columns of :meth:`LayerStore.history`.
HISTORY_COLUMNS = ("version", "time", "source", "checksum", "feature_count", "area_ha", "note")

_COLUMN_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_GEOM_TYPES = {"polygon": "MultiPolygon", "line": "MultiLineString", "point": "Point"}


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
    gdf = require_lonlat(gdf, what=f"layer '{role}'")
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
        """The roles of the store's project (see :meth:`project`)."""
        return catalogue(self.project())

    @abstractmethod
    def project(self) -> Project:
        """The store's project: a folder's ``project.toml``, the latest version of a table, else the bundled project."""

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


# --------------------------------------------------------------------------- the SQL stores


def _iso(time: Any) -> Any:
    """A version's time as ISO 8601 text (PostgreSQL gives a datetime, SQLite the text it holds)."""
    return time.isoformat(timespec="seconds") if isinstance(time, dt.datetime) else time


def _parse_project(text: str, facts_text: str | None, where: str) -> tuple[Project, dict[str, Fact] | None]:
    """A project (and its facts table) as a store table holds them, read by the code that reads a folder's.

    Like a ``project.toml`` with a ``facts.csv`` beside it, the fact ids are checked
    against the facts table kept with it; without one they are not (the bundled table is used).
    """
    facts = None if facts_text is None else read_facts_text(facts_text, f"{where}, facts")
    return read_project_text(text, where=where, facts=facts), facts


class SQLStore(LayerStore):
    """A store in a database (GeoPackage, PostGIS): what both keep alike.

    Per role ``<role>_history`` holds every version's rows (properties as JSON, the
    geometry); the versions table (``_VERSIONS``) one row per version; the project
    table (``_PROJECT``) one row per version of ``project.toml``: version, time,
    source, checksum (``sha256:`` of the TOML), note, the TOML text and the facts table
    (``facts.csv`` text, or NULL: then the bundled facts are used, as for a folder without one).
    """

    #: The versions table and the project table as written in SQL, and the driver's parameter mark.
    _VERSIONS: str
    _PROJECT: str
    _MARK: str

    @abstractmethod
    def _connect(self) -> contextlib.AbstractContextManager[Any]:
        """A connection; a database error becomes a ReadError naming the store."""

    @abstractmethod
    def _writing(self) -> contextlib.AbstractContextManager[Any]:
        """A connection in a write transaction (one writer at a time), committed when the block ends without error."""

    @abstractmethod
    def _rows(self, conn: Any, role: str, version: int) -> tuple[list, list]:
        """The properties (JSON) and the geometries of one version of ``role``, in order."""

    @abstractmethod
    def _has_project(self, conn: Any) -> bool:
        """Whether the project table exists (a store made before it was added has none)."""

    @abstractmethod
    def _create_project_table(self, conn: Any) -> None:
        """Create the project table unless it exists."""

    def _sql(self, text: str) -> str:
        return text.replace("?", self._MARK)

    def _roles(self) -> set[str]:
        with self._connect() as conn:
            return {r for (r,) in conn.execute(f"SELECT DISTINCT role FROM {self._VERSIONS}")}

    def _entries(self, conn: Any, role: str) -> list[dict]:
        cur = conn.execute(
            self._sql(
                "SELECT version, time, source, checksum, feature_count, area_ha, note, columns "
                f"FROM {self._VERSIONS} WHERE role = ? ORDER BY version"
            ),
            (role,),
        )
        names = [d[0] for d in cur.description]
        entries = [dict(zip(names, row, strict=True)) for row in cur]
        for e in entries:
            e["time"] = _iso(e["time"])
            if isinstance(e["columns"], str):  # GeoPackage: JSON text; PostGIS: jsonb
                e["columns"] = json.loads(e["columns"])
        return entries

    def history(self, role: str) -> pd.DataFrame:  # noqa: D102 - see LayerStore
        if role == PROJECT_ROLE:
            return self.project_history()
        _check_role(role)
        with self._connect() as conn:
            return _history_frame(self._entries(conn, role))

    def read_layer(self, role: str, *, version: int | None = None) -> gpd.GeoDataFrame:  # noqa: D102
        _check_role(role)
        with self._connect() as conn:
            entries = {int(e["version"]): e for e in self._entries(conn, role)}
            if not entries:
                raise LayerNotFoundError(f"layer '{role}' has no version in the store {mask_url(self.spec)}.")
            if version is None:
                version = max(entries)
            elif int(version) not in entries:
                self._check_version(role, version)  # raises, naming the versions there are
            props, geoms = self._rows(conn, role, int(version))
        return _frame(props, geoms, entries[int(version)]["columns"])

    # the project ---------------------------------------------------------------
    def _project_rows(self, conn: Any) -> list[dict]:
        if not self._has_project(conn):
            return []
        cur = conn.execute(
            f"SELECT version, time, source, checksum, note, toml, facts FROM {self._PROJECT} ORDER BY version"
        )
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, row, strict=True)) for row in cur]
        for row in rows:
            row["time"] = _iso(row["time"])
        return rows

    def _project_where(self, version: int) -> str:
        return f"the project table of {mask_url(self.spec)} (version {version})"

    def project(self) -> Project:
        """The latest version of the store's project, else (a store without one) the bundled project."""
        with self._connect() as conn:
            rows = self._project_rows(conn)
        if not rows:
            return bundled_project()
        return _parse_project(rows[-1]["toml"], rows[-1]["facts"], self._project_where(int(rows[-1]["version"])))[0]

    def facts(self) -> dict[str, Fact] | None:
        """The facts table kept with the latest version of the project; None when there is none."""
        with self._connect() as conn:
            rows = self._project_rows(conn)
        if not rows or rows[-1]["facts"] is None:
            return None
        return _parse_project(rows[-1]["toml"], rows[-1]["facts"], self._project_where(int(rows[-1]["version"])))[1]

    def project_history(self) -> pd.DataFrame:
        """Versions of the project, with the columns of a layer's :meth:`history` (no features, no area)."""
        with self._connect() as conn:
            rows = self._project_rows(conn)
        return _history_frame([{**r, "feature_count": None, "area_ha": None} for r in rows])

    def write_project(self, text: str, *, facts: str | None = None, source: str = "", note: str = "") -> int:
        """Add ``text`` (a ``project.toml``) as a new version of the store's project; return its number.

        ``facts`` is the text of its facts table (``facts.csv``); default: the current version's.

        Raises
        ------
        ProjectError
            If the text is not a project that can work (nothing is written then).
        ReadError
            If the facts table has problems (nothing is written then).
        """
        with self._writing() as conn:
            if facts is None:
                rows = self._project_rows(conn)
                facts = rows[-1]["facts"] if rows else None
            return self._insert_project(conn, text, facts, source=source, note=note)

    def _insert_project(self, conn: Any, text: str, facts: str | None, *, source: str, note: str = "") -> int:
        _parse_project(text, facts, source or "the new project")  # refuses what cannot work, before writing
        self._create_project_table(conn)
        version = int(conn.execute(f"SELECT coalesce(max(version), 0) + 1 FROM {self._PROJECT}").fetchone()[0])
        checksum = "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
        conn.execute(
            self._sql(
                f"INSERT INTO {self._PROJECT} (version, source, checksum, note, toml, facts) VALUES (?, ?, ?, ?, ?, ?)"
            ),
            (version, source, checksum, note, text, facts),
        )
        return version

    def rollback(self, role: str, version: int) -> int:
        """Make ``version`` of ``role`` (or of the project: ``role="project"``) current again, as a new version."""
        if role != PROJECT_ROLE:
            return super().rollback(role, version)
        with self._connect() as conn:
            rows = {int(r["version"]): r for r in self._project_rows(conn)}
        if int(version) not in rows:
            raise UsageError(
                f"version {version} of the project does not exist in {mask_url(self.spec)}; versions are "
                f"{', '.join(map(str, rows)) or 'none'} (see 'bigcats history {PROJECT_ROLE}')."
            )
        row = rows[int(version)]
        return self.write_project(
            row["toml"], facts=row["facts"], source=row["source"] or "", note=f"rollback to version {version}"
        )
