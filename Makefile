# Two commands for a fresh machine:
#   make run   - create .venv if needed and start the app
#   make test  - create .venv if needed and run every test (unit, page, browser)
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test bench load clean

$(STAMP): requirements.txt requirements-test.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-test.txt
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m streamlit run app.py

test: $(STAMP)
	bash scripts/ensure_chromium.sh
	$(PY) -m pytest -q tests

bench: $(STAMP)
	$(PY) -m bench

load: $(STAMP)
	bash scripts/ensure_chromium.sh
	$(PY) -m tests.load.load_test --sessions 20

clean:
	rm -rf $(VENV)
