"""The one way a page shows a lab's table: human column names, accuracy first
(``pruning.present.columns``), fractions as percent."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from pruning.present.columns import readable_with_formats


def show_table(table: pd.DataFrame | None = None, names: dict[str, str] | None = None, *,
               view: tuple[pd.DataFrame, dict[str, str]] | None = None, **kwargs) -> None:
    """``st.dataframe`` of ``readable(table, names)`` (or of ``view``, what
    ``readable_with_formats`` made already); ``kwargs`` go to ``st.dataframe``."""
    shown, formats = view if view is not None else readable_with_formats(table, names)
    config = {name: st.column_config.NumberColumn(name, format=fmt)
              for name, fmt in formats.items()}
    config.update(kwargs.pop("column_config", {}) or {})
    st.dataframe(shown, **{"hide_index": True, "width": "stretch", **kwargs},
                 column_config=config)

