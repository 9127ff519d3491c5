"""The one way a page shows a lab's table: human column names, accuracy first
(``pruning.present.columns``), fractions as percent."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from pruning.present.columns import number_formats, readable


def show_table(table: pd.DataFrame, names: dict[str, str] | None = None, **kwargs) -> None:
    """``st.dataframe`` of ``readable(table, names)``; ``kwargs`` go to ``st.dataframe``."""
    config = {name: st.column_config.NumberColumn(name, format=fmt)
              for name, fmt in number_formats(table, names).items()}
    config.update(kwargs.pop("column_config", {}) or {})
    st.dataframe(readable(table, names), **{"hide_index": True, "width": "stretch", **kwargs},
                 column_config=config)

