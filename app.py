"""Pruning Playground — entry point: page navigation and the settings every page shares."""
import streamlit as st

from ui.classroom import apply_classroom_style
from ui.fragments import FULL_RUN
from ui.jobs import show_stopped_jobs
from ui.next_step import next_step_link, set_current_page
from ui.page_stop import page_stops_here
from ui.persist import (
    render_saved_work_box,
    save_if_changed,
    show_notices,
    watch_running_job,
    write_cookie,
)
from ui.settings import render_settings_sidebar
from ui.share_links import render_share_links
from ui.url_sync import remember_url_widgets, show_url_notices, sync_url_settings
from ui.workspace import workspace

st.set_page_config(page_title="Pruning Playground", page_icon="✂️", layout="wide")

PAGES = [
    st.Page("pages/home.py", title="Home", icon="🏠", default=True),
    st.Page("pages/lesson.py", title="Guided lesson", icon="🎓"),
    st.Page("pages/threshold.py", title="Threshold basics", icon="🎚️"),
    st.Page("pages/train.py", title="Train", icon="🏋️"),
    st.Page("pages/prune.py", title="Prune", icon="✂️"),
    st.Page("pages/finetune.py", title="Fine-tune", icon="🔧"),
    st.Page("pages/iterate.py", title="Iterate", icon="🔁"),
    st.Page("pages/scorers.py", title="Compare scorers", icon="🧮"),
    st.Page("pages/structured.py", title="Structured & sensitivity", icon="🧱"),
    st.Page("pages/lottery.py", title="Lottery tickets", icon="🎟️"),
    st.Page("pages/generalization.py", title="Generalization lab", icon="🔬"),
    st.Page("pages/shrank.py", title="What shrank?", icon="📦"),
    st.Page("pages/runs.py", title="Runs", icon="📚"),
]

nav = st.navigation(PAGES)
sync_url_settings()        # the link's settings, before any widget is drawn
render_settings_sidebar()
render_share_links()
apply_classroom_style()
show_url_notices()
write_cookie()             # this browser's private key for its saved work (ui/persist.py)
workspace()                # loaded before the page runs, so its notices show now
show_notices()
watch_running_job()         # a job still running after the connection came back
render_saved_work_box()
set_current_page(nav.url_path)
show_stopped_jobs()        # a job that Stop, a page change or a closed tab ended: where it got
st.session_state[FULL_RUN] = True   # a fragment's own rerun (ui.fragments) skips this file
try:
    with page_stops_here():  # a page's stop_page() ends the page, not this run
        nav.run()
        next_step_link()   # every page ends with the way on (pages that stop draw it first)
finally:                   # also after st.rerun() inside a page
    st.session_state[FULL_RUN] = False
    remember_url_widgets()
    save_if_changed()      # the finished step, if the workspace changed
