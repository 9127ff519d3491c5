"""The experiment behind each page: runs on the core, scoring and loop, returns plain data.

No Plotly and no prose here: figures and sentences are built from these results in ``present``.
"""
