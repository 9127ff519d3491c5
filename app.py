"""Pruning Playground — entry point: page navigation and the settings every page shares."""
import streamlit as st

from pages._shared import render_settings_sidebar

st.set_page_config(page_title="Pruning Playground", page_icon="✂️", layout="wide")

PAGES = [
    st.Page("pages/home.py", title="Home", icon="🏠", default=True),
    st.Page("pages/prune.py", title="Prune", icon="✂️"),
    st.Page("pages/finetune.py", title="Fine-tune", icon="🔧"),
    st.Page("pages/iterate.py", title="Iterate", icon="🔁"),
]

nav = st.navigation(PAGES)
render_settings_sidebar()
nav.run()
