#!/usr/bin/env bash
# Install what the PostGIS and GeoPackage tests need (Debian/Ubuntu), only when it is missing:
# PostgreSQL 15 server, PostGIS 3 for it, and GDAL's ogrinfo. Called by `make test`.
# Without root or apt-get it prints what is missing; the tests that need it then skip with that reason.
set -euo pipefail
missing=()
[ -x /usr/lib/postgresql/15/bin/initdb ] || missing+=(postgresql-15)
ls /usr/share/postgresql/15/extension/postgis.control >/dev/null 2>&1 || missing+=(postgresql-15-postgis-3)
command -v ogrinfo >/dev/null 2>&1 || missing+=(gdal-bin)
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure_postgis: missing ${missing[*]}; install them (apt-get install ${missing[*]}) to run the postgis tests" >&2
    exit 0
fi
echo "ensure_postgis: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
