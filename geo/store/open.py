"""Opening and creating a layer store from ``--layers``: a folder, a ``.gpkg`` file or a PostgreSQL URL."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from geo.errors import UsageError
from geo.facts import Fact
from geo.io import atomic_path, file_sha256, fsync_path
from geo.layers import LAYERS
from geo.project import PROJECT_FILE, Project, read_project
from geo.store.base import LayerStore, SQLStore
from geo.store.folder import FolderStore
from geo.store.gpkg import GeoPackageStore
from geo.store.postgis import PostGISStore

__all__ = ["init_store", "open_store", "store_facts", "store_project"]


def _is_url(spec: str) -> bool:
    """A PostGIS store: a ``postgresql://`` URL, or a libpq ``key=value`` string (``dbname=... host=...``)."""
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


def _project_of_folder(folder: Path) -> tuple[str, str | None, str] | None:
    """A folder's ``project.toml`` and its facts table (texts), and where they come from; None without a project."""
    path = folder / PROJECT_FILE
    if not path.is_file():
        return None
    facts = read_project(path).facts_path
    facts_text = facts.read_text(encoding="utf-8") if facts is not None and facts.is_file() else None
    return path.read_text(encoding="utf-8"), facts_text, str(path)


def init_store(spec: str | Path, source_dir: str | Path) -> LayerStore:
    """Create a new store at ``spec`` and load the layers of the folder ``source_dir`` as version 1.

    The folder's ``project.toml``, when it has one, becomes the store's project
    (a copy of the file in a folder store; version 1 of the project table otherwise).

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
    project = _project_of_folder(src)
    if _is_url(spec):
        return PostGISStore.create(spec, layers, provenance=provenance, project=project)
    if spec.lower().endswith(".gpkg"):
        return GeoPackageStore.create(spec, layers, provenance=provenance, project=project)
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
            if entry is None:  # pragma: no cover - the file was copied just above
                raise UsageError(f"{LAYERS[role].filename} vanished from {tmp} during init; run init again.")
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


def store_project(spec: str) -> Project | None:
    """The project held by the GeoPackage or PostGIS store ``spec``; None for any other spec (a folder).

    Registered with :func:`geo.project.register_store_reader`, so that
    :func:`geo.project.project_for` reads the project of every kind of store.
    """
    if _is_url(spec) or (spec.lower().endswith(".gpkg") and Path(spec).is_file()):
        return open_store(spec).project()
    return None


def store_facts(spec: str) -> dict[str, Fact] | None:
    """The facts table kept with the project of the GeoPackage or PostGIS store ``spec``; else None.

    Registered with :func:`geo.facts.register_store_reader` (see :func:`store_project`).
    """
    if _is_url(spec) or (spec.lower().endswith(".gpkg") and Path(spec).is_file()):
        store = open_store(spec)
        return store.facts() if isinstance(store, SQLStore) else None
    return None
