# Every target a person or CI uses. `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install install-dev test-tools run test lint typecheck bench bench-gpu clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# setuptools draws a warning box about editable installs on every install: not for the user.
QUIET_BUILD := PYTHONWARNINGS=ignore::UserWarning

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(QUIET_BUILD) $(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(QUIET_BUILD) $(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

# System packages the tests need, installed once with apt-get when missing (it says which and
# why): espeak-ng, ffmpeg, Chromium, docker-compose, PostgreSQL, mount, RabbitMQ. The engine
# needs none.
test-tools:
	@scripts/install-test-tools

# The HTTP service on http://127.0.0.1:8000 with the embedded defaults: SQLite and files under
# ./podalign-data, the bundled tiny.en model. PODALIGN_* variables change them (README).
HOST ?= 127.0.0.1
PORT ?= 8000
run: install
	$(BIN)/podalign serve --host $(HOST) --port $(PORT)

lint: install-dev test-tools
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/hadolint Dockerfile
	docker-compose -f docker-compose.yml config -q
	docker-compose -f docker-compose.distributed.yml config -q

typecheck: install-dev
	$(BIN)/mypy

test: install-dev test-tools lint typecheck
	$(BIN)/pytest -q

# The benchmark needs torch (CPU build) for stable-ts; see bench/README.md.
bench: install-dev
	$(BIN)/pip install --quiet 'torch==2.13.0'
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench.run

# On a CUDA host: real-time factor and GPU memory for tiny.en, base and large-v3 (downloaded).
bench-gpu: install-dev
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench.gpu

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache bench/out
