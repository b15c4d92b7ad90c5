"""The PostGIS store: the GeoPackage store's tables in the schema ``bigcats`` of a PostgreSQL database.

``postgresql://user@host:port/db`` (or a libpq ``key=value`` string): per role
``bigcats.<role>`` (current, geometry columns typed, ``geometry(MultiPolygon, 4326)``...,
with a GiST index) and ``bigcats.<role>_history``, plus ``bigcats.versions`` and
``bigcats.project`` (see :class:`geo.store.base.SQLStore`). A write is one
transaction serialised by an advisory lock. The password comes from ``PGPASSWORD``
or ``~/.pgpass`` (libpq) and is never shown.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from typing import Any

import geopandas as gpd
import shapely

from geo.errors import ReadError, UsageError
from geo.io import _json_value
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
    mask_url,
)

__all__ = ["PostGISStore"]

_PG_SCHEMA = "bigcats"
_PG_LOCK_KEY = 0x6269_6763_6174  # "bigcat": one advisory lock for every write to the store


class PostGISStore(SQLStore):
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
    def _connect(self) -> Iterator[Any]:
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

        found = re.findall(r"://[^:/@\s]*:(\S*)@", self.url)
        found += re.findall(r"(?i)\bpassword\s*=\s*'?([^\s&']+)", self.url)
        # libpq takes a URL's host from the first "@": the rest of a password holding "@" shows up as a host name
        pieces = [p for raw in found for p in {raw, unquote(raw)}]
        pieces += ["@".join(p.split("@")[i:]) for p in list(pieces) for i in range(1, p.count("@") + 1)]
        return sorted((p for p in set(pieces) if len(p) >= 3), key=len, reverse=True)

    @staticmethod
    def _t(name: str):
        from psycopg import sql

        return sql.Identifier(_PG_SCHEMA, name)


    _VERSIONS = f"{_PG_SCHEMA}.versions"
    _PROJECT = f"{_PG_SCHEMA}.project"
    _MARK = "%s"

    @contextlib.contextmanager
    def _writing(self) -> Iterator[Any]:
        with self._connect() as conn:  # one transaction: committed when the block ends, else rolled back
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_PG_LOCK_KEY,))  # writers queue here, one at a time
            yield conn

    def _rows(self, conn: Any, role: str, version: int) -> tuple[list, list]:
        from psycopg import sql

        rows = conn.execute(
            sql.SQL("SELECT properties, ST_AsBinary(geom) FROM {} WHERE version = %s ORDER BY fid").format(
                self._t(f"{role}_history")
            ),
            (version,),
        ).fetchall()
        return [r[0] for r in rows], [None if r[1] is None else shapely.from_wkb(bytes(r[1])) for r in rows]

    def _has_project(self, conn: Any) -> bool:
        return bool(conn.execute("SELECT to_regclass(%s) IS NOT NULL", (self._PROJECT,)).fetchone()[0])

    def _create_project_table(self, conn: Any) -> None:
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {self._PROJECT} (version integer PRIMARY KEY, "
            "time timestamptz NOT NULL DEFAULT now(), source text, checksum text, note text, toml text NOT NULL, "
            "facts text)"
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
        defs: list[sql.Composable] = [sql.SQL("fid serial PRIMARY KEY"), sql.SQL("version integer NOT NULL")]
        defs += [sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t)) for c, t in columns.items()]
        defs.append(sql.SQL("geom geometry({}, 4326)").format(sql.SQL(_GEOM_TYPES[LAYERS[role].geometry])))
        cur.execute(sql.SQL("CREATE TABLE {} ({})").format(self._t(role), sql.SQL(", ").join(defs)))
        cur.execute(
            sql.SQL("CREATE INDEX {} ON {} USING GIST (geom)").format(
                sql.Identifier(f"{role}_geom_gist"), self._t(role)
            )
        )

    @classmethod
    def create(
        cls,
        url: str,
        layers: dict[str, gpd.GeoDataFrame],
        *,
        provenance: dict[str, dict],
        project: tuple[str, str | None, str] | None = None,
    ) -> PostGISStore:
        """Create the ``bigcats`` schema, its tables and indexes, and load ``layers`` as version 1 (one transaction).

        ``project`` is ``(project.toml, its facts.csv or None, where they came from)``: version 1 of the project.
        """
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
            if project is not None:
                store._insert_project(conn, project[0], project[1], source=project[2])
        return cls(url)

