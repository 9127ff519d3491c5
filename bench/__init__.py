"""Performance benchmarks of Pruning Playground (not part of the test suite).

Run all:   ``.venv/bin/python -m bench``   (or ``make bench``)
One item:  ``.venv/bin/python -m bench --only to97 --repeats 7``

Each item is measured against a baseline in the same run (see ``harness``) and judged
against the targets of issue 8; results and their machine are recorded in BENCHMARKS.md.
"""
