"""The layer store: a folder of GeoJSON, a GeoPackage or a PostGIS database, every version kept.

``open_store(spec)`` picks the backend from ``--layers``:

- a folder path: the GeoJSON layer folder (:mod:`geo.store.folder`), its project
  the folder's ``project.toml``;
- a ``.gpkg`` path: a GeoPackage (:mod:`geo.store.gpkg`);
- ``postgresql://user@host:port/db``: the same tables in a PostGIS schema
  (:mod:`geo.store.postgis`).

The GeoPackage and PostGIS stores keep the project in a table, one row per
version, like the layers (:class:`geo.store.base.SQLStore`). Nothing is
overwritten: ``write_layer``, ``write_project`` and ``rollback`` add a version.
:mod:`geo.store.base` holds what the stores share, :mod:`geo.store.open` opens them.
"""

from geo.facts import register_store_reader as register_facts_reader
from geo.project import register_store_reader
from geo.store.base import HISTORY_COLUMNS, PROJECT_ROLE, LayerStore, SQLStore, diff_layers, mask_url
from geo.store.folder import FolderStore
from geo.store.gpkg import GeoPackageStore
from geo.store.open import init_store, open_store, store_facts, store_project
from geo.store.postgis import PostGISStore

__all__ = [
    "FolderStore",
    "GeoPackageStore",
    "HISTORY_COLUMNS",
    "LayerStore",
    "PROJECT_ROLE",
    "PostGISStore",
    "SQLStore",
    "diff_layers",
    "init_store",
    "mask_url",
    "open_store",
    "store_facts",
    "store_project",
]

# project_for() and facts_for() read the project (and its facts) a GeoPackage or PostGIS store holds
register_store_reader(store_project)
register_facts_reader(store_facts)

