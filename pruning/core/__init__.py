"""The core: data → model → masks → selection → training, and the counts and records around them.

Nothing here knows about scoring methods, pages, figures or Streamlit; every other layer of
``pruning`` builds on these modules (imports run one way: core never imports upwards).
"""
