# Two commands for a fresh machine:
#   make run   - create .venv if needed and start the app
#   make test  - create .venv if needed and run every test (unit, page, browser)
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test bench load capacity capacity-compare class clean

$(STAMP): requirements.txt requirements-test.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-test.txt
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m streamlit run serve.py

# Two workers (pytest-xdist): the browser tests, one after the other on one worker, run beside
# the unit, page and load tests on the other (tests/conftest.py schedules them; the browser
# tests come first in collection order, so they start at once).
test: $(STAMP)
	bash scripts/ensure_chromium.sh
	$(PY) -m pytest -q -n 2 --dist loadscope --no-loadscope-reorder tests

bench: $(STAMP)
	$(PY) -m bench

load: $(STAMP)
	bash scripts/ensure_chromium.sh
	$(PY) -m tests.load.load_test --sessions 20

# Capacity without browsers (Locust, Streamlit's websocket protocol): starts and stops its own
# server(s), writes test-artifacts/capacity.json. REPLICAS>1 runs them behind HAProxy.
STUDENTS ?= 40
DURATION ?= 60
REPLICAS ?=
capacity: $(STAMP)
	$(PY) -m tests.load.capacity --students $(STUDENTS) --duration $(DURATION) --replicas $(or $(REPLICAS),1)

# 1 vs 2 app processes under the same saturating load: test-artifacts/capacity-compare.json
capacity-compare: $(STAMP)
	$(PY) -m tests.load.compare --students $(or $(COMPARE_STUDENTS),24) --duration $(DURATION)

# A class: one app process per core (or REPLICAS) behind HAProxy with cookie affinity.
PORT ?= 8501
class: $(STAMP)
	$(PY) -m deploy.class_server --replicas $(or $(REPLICAS),$(shell nproc)) --port $(PORT)

clean:
	rm -rf $(VENV)
