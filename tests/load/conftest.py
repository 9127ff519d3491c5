# The load test is a command (python -m tests.load.load_test / make load), not part of the
# test suite: its name matches pytest's "*_test.py" pattern, so keep pytest from collecting it.
collect_ignore = ["load_test.py"]
