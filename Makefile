# The two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin

.PHONY: install sysdeps test check run demo openapi bench lock wheel-smoke fuzz clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

sysdeps:  ## xmllint, xmlsec1, openssl: the independent checkers the tests call; chromium and axe-core
	@bash scripts/ensure-sysdeps
	@bash scripts/ensure-axe

test: install sysdeps
	$(PY) -m pytest -q

check: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

run: install
	$(BIN)/gateway certs init
	$(BIN)/gateway serve

demo: install
	$(BIN)/gateway demo

openapi: install
	$(BIN)/gateway openapi > openapi/openapi.json

bench: install sysdeps
	$(PY) bench/run_all.py

lock: install  ## requirements.lock: every runtime dependency pinned with its hashes (PyPI), for the image and CI
	PIP_CONFIG_FILE=/dev/null PIP_FIND_LINKS= $(BIN)/pip-compile -q --generate-hashes --strip-extras \
	  --no-emit-index-url --no-emit-find-links --index-url https://pypi.org/simple \
	  --output-file requirements.lock pyproject.toml

wheel-smoke:  ## build the wheel, install it outside the checkout, run the demo and an e2e smoke there
	bash scripts/wheel-smoke

fuzz: install  ## the fuzz suite's long budget (docs/robustness.md): 100,000 inputs per source, then 3,000 over mTLS
	$(PY) bench/fuzz.py inprocess --count 100000
	$(PY) bench/fuzz.py http --count 3000

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
