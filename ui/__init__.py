"""UI glue shared by app.py and the pages: the only code besides the pages that imports streamlit.

Only widget reading and rendering lives here; every computation is a call into ``pruning``.

    settings   the sidebar's experiment settings -> configs (``current_configs``)
    cache      what the whole server shares: data bundles, the default trained model
    workspace  this session's workspace and its per-model caches
    widgets    ``remembered`` widget values, error display, small formatting helpers
    url_sync   address bar <-> session state (the table lives in pruning.app.url_state)
    classroom  classroom mode and its larger style
    scaffold   how a page opens (``page_context``) and keeps a run's result (``run_and_keep``)

Isolation rules (many students share one server):
  * ``st.cache_resource`` holds only things nobody mutates: data bundles (read-only tensors)
    and the default ``TrainedModel`` (its weights are copied into a fresh module on every use).
  * Each session's own results live in ``st.session_state["workspace"]``.

Importing this package (every page imports a ``ui`` module) also sets the server up once:
it leaves Streamlit's legacy pages mode, starts the log, and caps torch's threads.
"""
from __future__ import annotations

import logging

import torch

#: The server log's name (also used by pages that log shared work).
LOG_NAME = "pruning_playground"


# A folder named ``pages/`` next to app.py is also Streamlit's *legacy* multipage layout, used
# until some session runs ``st.navigation``. So the first visitors after a server start who
# open a deep link (a teacher's ``/prune?…``) get that page run alone, without app.py: no
# settings sidebar, no link settings, every file of pages/ listed as a page. Every page imports
# this package (before its first Streamlit call), so the first such run switches the legacy mode off for the whole server
# and asks for a rerun through app.py (page and query string kept). Not ``st.rerun()``: it
# raises, and an exception inside this import leaves the module half-initialised for the
# sessions importing it at the same moment (20 students at once got ImportErrors, measured
# by tests/load/load_test.py); a rerun *request* is honoured at the page's next Streamlit
# call, outside any import. Sessions already running a legacy run at that moment show it
# once and are back on the next click. Renaming pages/ would remove the legacy mode entirely.
def _leave_legacy_pages_mode() -> None:
    try:
        from streamlit.runtime.pages_manager import PagesManager
        from streamlit.runtime.scriptrunner import RerunData, get_script_run_ctx
    except ImportError:  # a Streamlit without the legacy mode or these internals
        return
    if not getattr(PagesManager, "uses_pages_directory", None):
        return
    PagesManager.uses_pages_directory = False
    ctx = get_script_run_ctx()
    if ctx is not None and getattr(ctx, "script_requests", None) is not None:
        ctx.script_requests.request_rerun(RerunData(query_string=ctx.query_string,
                                                    page_script_hash=ctx.page_script_hash))


_leave_legacy_pages_mode()

# The server log says when shared work really runs (not served from a cache): the load test
# counts these lines to show the default model is trained once for a whole class.
log = logging.getLogger(LOG_NAME)
if not log.handlers:
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    log.addHandler(_handler)
    log.setLevel(logging.INFO)

# One student's training must not starve the others: torch's intra-op threads are
# process-wide, so cap them once for the whole server.
torch.set_num_threads(1)
