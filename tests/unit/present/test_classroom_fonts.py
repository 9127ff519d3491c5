"""Classroom mode enlarges figure fonts for one session only (a ContextVar per thread)."""
import threading

import pandas as pd

from pruning.present import charts, style


def _sizes(fig):
    return fig.layout.font.size, fig.layout.title.font.size


def test_font_scale_enlarges_layout_and_explicit_fonts():
    hist = pd.DataFrame({"epoch": [0, 1], "train_acc": [0.1, 0.9], "test_acc": [0.1, 0.8]})
    normal = charts.training_curves(hist)
    heat = charts.weight_heatmap([[1.0, -1.0], [0.5, 0.0]])
    ann_normal = heat.layout.annotations[0].font.size
    try:
        style.set_font_scale(style.CLASSROOM_FONT_SCALE)
        big = charts.training_curves(hist)
        big_heat = charts.weight_heatmap([[1.0, -1.0], [0.5, 0.0]])
    finally:
        style.set_font_scale(1.0)
    assert big.layout.font.size > normal.layout.font.size
    assert big.layout.title.font.size > normal.layout.title.font.size
    assert big_heat.layout.annotations[0].font.size > ann_normal
    assert big.layout.height > normal.layout.height
    assert _sizes(charts.training_curves(hist)) == _sizes(normal)   # back to normal


def test_scale_in_one_thread_does_not_leak_into_another():
    seen = {}

    def teacher():
        style.set_font_scale(2.0)
        seen["teacher"] = style.font_scale()

    def student():
        seen["student"] = style.font_scale()

    t = threading.Thread(target=teacher)
    t.start(); t.join()
    s = threading.Thread(target=student)
    s.start(); s.join()
    assert seen == {"teacher": 2.0, "student": 1.0}
    assert style.font_scale() == 1.0
