"""The command line, ``python -m pruning``: the same experiments as the app, as JSON or CSV."""
from pruning.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
