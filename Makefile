# Every target works on a fresh clone with nothing but Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The demo needs the emulator, not the lint and test tools: its own, smaller install.
DEMO_STAMP := $(VENV)/.installed-demo
# The studio's browser tests drive the system's Chromium (Debian's package), never a
# browser that Playwright would download.
CHROMIUM := /usr/bin/chromium

.PHONY: install test test-slow lint format demo bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

$(DEMO_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[emulator]'
	touch $(DEMO_STAMP)

install: $(STAMP)

$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && apt-get install -y -qq chromium; \
	else \
		echo "the studio's browser tests need Chromium at $(CHROMIUM): apt-get install chromium" >&2; \
		exit 1; \
	fi

test: $(STAMP) $(CHROMIUM)
	$(BIN)/python -m pytest -q -m "not slow"

# The long variants (crash campaigns). pytest exits 5 when no test carries the marker.
test-slow: $(STAMP) $(CHROMIUM)
	$(BIN)/python -m pytest -q -m slow; rc=$$?; [ $$rc -eq 0 ] || [ $$rc -eq 5 ]

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

demo: $(DEMO_STAMP)
	$(BIN)/runninghub demo

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .cache build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
