"""Shared set-up for the AppTest page tests."""
import pytest
import streamlit as st


@pytest.fixture(autouse=True)
def _entry_script_always_runs(monkeypatch):
    """Run app.py on every AppTest run, as the real server does.

    AppTest (1.67) resets ``PagesManager.uses_pages_directory`` before each run; because this
    project has a ``pages/`` folder next to app.py, the flag comes back True and every run
    after the first executes the *page file alone* ("multipage v1"), skipping app.py — its
    sidebar, the URL sync and classroom mode would silently not run. ``st.navigation`` sets
    the flag to False on the server, so keep it False here too.
    """
    from streamlit.runtime.pages_manager import PagesManager

    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)


@pytest.fixture(autouse=True)
def _fresh_caches():
    """AppTest shares Streamlit's caches across tests: start and end each test clean."""
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()
    st.cache_data.clear()
