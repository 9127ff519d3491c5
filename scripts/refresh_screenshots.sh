#!/usr/bin/env bash
# Refresh the README's screenshots (docs/screenshots/*.png) from a real browser run: the
# journey (home, train, prune, fine-tune), the notice a bad link shows, and the classroom
# lesson (scripts/lesson_screenshots.py). Run it after a UI
# change, look at the pictures, and commit them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure_chromium.sh
REFRESH_DOCS_SCREENSHOTS=1 .venv/bin/python -m pytest -q \
  tests/browser/test_journey.py \
  "tests/browser/test_hostile_links.py::test_bad_query_parameters_are_ignored_with_a_notice"
# the guided lesson and What shrank? at 1280x720 in classroom mode, with the default model
.venv/bin/python scripts/lesson_screenshots.py
ls -l docs/screenshots/
du -ch docs/screenshots/*.png | tail -1
