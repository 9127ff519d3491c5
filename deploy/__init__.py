"""Hosting a class: several app processes behind one reverse proxy (``make class``)."""
