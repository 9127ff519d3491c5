"""The app's settings as URL query parameters: parse (strictly) and encode (for a shareable link).

A teacher sends ``…/prune?dataset=digits&model=mlp&hidden=300,100&seed=0&scorer=magnitude&scope=global&sparsity=0.9&schedule=iterative&rounds=5``
and every student opens the same experiment. A URL is typed by strangers, so parsing trusts
nothing: every value is checked against the same rules as the widgets (choices, whole
numbers, ranges); anything else is *ignored* and explained in a notice, never raised. Notices
quote offending text shortened to ``MAX_SHOWN`` characters inside a code span, so a crafted value
can neither flood the page nor be rendered as a link or HTML.

``parse_query_params(params) -> (AppSettings, notices)`` and ``encode_settings(settings)``
round-trip: ``parse_query_params(encode_settings(s)) == (s, [])`` for every valid ``s``.

One declarative table, ``PROPS`` (like TensorFlow Playground's ``State.PROPS``), says for every
setting how its URL text is read, how it is written, when it is in a link, and which widgets of
the app show it (``WIDGET_BINDINGS``, derived from the table). Parsing, encoding and the UI's
URL sync all loop over it; a new setting or a new widget for one is one row here.
Pure Python: no streamlit, no I/O.
"""
from __future__ import annotations

import math
import re
from collections import ChainMap
from dataclasses import dataclass, fields, replace
from typing import Callable, Mapping

from pruning.config import (  # noqa: F401
    MAX_HIDDEN_LAYERS,
    MAX_HIDDEN_WIDTH,
    PruneConfig,
    TrainConfig,
    parse_hidden,
)
from pruning.core.data import DATASETS
from pruning.core.schedules import SCHEDULES
from pruning.core.selection import SCOPES
from pruning.errors import PruningError
from pruning.labs import generalization as _gen
from pruning.labs.scorer_compare import DEFAULT_SCORERS
from pruning.present.lesson import N_STEPS as LESSON_STEPS
from pruning.scoring import SCORERS
from pruning.structured.units import UNIT_METHODS, UNIT_OPTIONS

MODELS = ("mlp", "cnn")
MAX_VALUE_CHARS = 96       # longer values are ignored (nothing valid is that long: all 8 scorers are 69)
MAX_SHOWN = 32             # characters of a bad value quoted back in a notice
MAX_PARAMS = 40            # more unknown parameters than this: the notice also counts them
SHOWN_NAMES = 12           # setting names listed in the unknown-setting notice
MAX_SEED = 10_000          # as the sidebar's seed input
MAX_ROUNDS = 10            # the Iterate page's slider range; a link must not start an hour of training
MAX_THRESHOLD = 1e6
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")

_PRUNE_DEFAULTS = PruneConfig()
_TRAIN_DEFAULTS = TrainConfig()
OPTIMIZERS = ("adam", "sgd")
FT_LEARNING_RATES = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)   # the Fine-tune page's slider
FT_BATCH_SIZES = (16, 32, 64, 128)                              # the Fine-tune page's choices
PRUNE_STARTS = ("finetuned", "dense")                           # Prune's "Start from"
LOTTERY_RATES = tuple(range(10, 81, 5))                         # Lottery's "Pruned per round" (%)
STRUCTURED_FRACTIONS = tuple(range(0, 96, 5))                   # Structured's units removed (%)
BUDGET_FRACTIONS = (25, 50, 75, 90)                             # Structured's same-budget shares
SENSITIVITY_SCORERS = tuple(s for s in SCORERS if s not in ("ablation", "movement"))
SENSITIVITY_TOLERANCES = tuple(x / 2 for x in range(21))        # 0, 0.5, … 10 points
GL_PRESETS = tuple(_gen.PRESETS)
GL_CONTROLS = tuple(_gen.CONTROLS)
LESSON_SPARSITIES = tuple(50 + x / 2 for x in range(99))         # the lesson's slider, 50–99 %


@dataclass(frozen=True)
class AppSettings:
    """Everything a shareable link carries. Exactly one of ``sparsity`` / ``threshold`` is set."""

    dataset: str = "digits"
    model: str = "mlp"
    hidden: tuple[int, ...] = (300, 100)
    seed: int = 0
    scorer: str = _PRUNE_DEFAULTS.scorer
    scope: str = _PRUNE_DEFAULTS.scope
    sparsity: float | None = _PRUNE_DEFAULTS.sparsity
    threshold: float | None = _PRUNE_DEFAULTS.threshold
    schedule: str = _PRUNE_DEFAULTS.schedule
    rounds: int = _PRUNE_DEFAULTS.rounds
    classroom: bool = False
    step: int | None = None      # the guided lesson's step (pages/lesson.py), when one is open
    # Training (sidebar knobs and the Train page): defaults are the widgets' defaults.
    epochs: int = 30
    train_size: int = 0          # 0 = all training examples
    label_noise: float = 0.0
    noise: float = 0.2           # input noise of the 2-D sets
    lr: float = _TRAIN_DEFAULTS.lr
    optimizer: str = _TRAIN_DEFAULTS.optimizer
    batch_size: int = _TRAIN_DEFAULTS.batch_size
    weight_decay: float = _TRAIN_DEFAULTS.weight_decay
    # Fine-tune page.
    ft_epochs: int = 10
    ft_lr: float = 1e-3
    ft_optimizer: str = "adam"
    ft_momentum: float = 0.9
    ft_batch: int = 32
    # Iterate page (it_epochs: the fine-tuning epochs of the whole run).
    it_epochs: int = 15
    it_rewind: bool = False
    it_rewind_epochs: int | None = None   # None: the page's default (the dense model's epochs)
    it_oneshot: bool = True
    it_baseline: bool = False
    # Compare scorers page.
    sc_seeds: int = 3
    sc_ft_epochs: int = 2
    sc_sparsity: int = 80        # percent, as its slider
    sc_mv_epochs: int = 2
    sc_scorers: tuple[str, ...] = DEFAULT_SCORERS
    # Prune page (beside scorer, scope, sparsity / threshold).
    include_output: bool = True
    start: str = "finetuned"     # when a fine-tuned model exists: prune it again, or the dense
    # Lottery tickets page.
    lt_rounds: int = 4
    lt_rate: int = 50            # percent of the survivors pruned per round
    lt_epochs: int = 8
    lt_rewind: int = 0
    # Structured & sensitivity page.
    st_method: str = "l1"
    st_fraction: int = 50        # percent of each hidden layer's units
    st_ft_epochs: int = 2
    st_budget_fracs: tuple[int, ...] = (50, 75, 90)
    st_budget_method: str = "l1"
    st_budget_ft: int = 2
    st_sens_scorer: str = "magnitude"
    st_sens_tol: float = 1.0     # accuracy points
    # Threshold basics: the worked example (four weights, a threshold) and the real layers.
    # None: the page's default (the article's numbers; for a layer, its median |w|).
    ex_weights: tuple[float, ...] | None = None
    ex_t: float | None = None
    thr_layer: str | None = None
    thr_t: float | None = None   # the threshold on ``thr_layer`` (reset when the layer changes)
    thr_target: int = 50
    thr_global: float | None = None
    # Generalization lab: the experiment, and its knobs (None: the preset's own; reset when
    # the experiment changes, each preset has its own defaults).
    gl_preset: str = GL_PRESETS[0]
    gl_levels: tuple[float, ...] | None = None
    gl_seeds: int | None = None
    gl_rewind: bool | None = None
    gl_epochs: int | None = None
    gl_ft: int | None = None
    gl_patience: int | None = None
    gl_controls: tuple[str, ...] | None = None
    # Guided lesson: its prune and fine-tune steps. What shrank?: fine-tune the one-click model.
    ls_sparsity: float = 90.0
    ls_ft_epochs: int = 10
    ls_again: float | None = None   # the repeat step's target (None: the suggested one)
    sh_finetune: bool = True


PARAM_NAMES = tuple(f.name for f in fields(AppSettings))

#: Set by the server's guard (``pruning.app.guard``) when it redirected a request; the app
#: turns its code into a sentence (``guard_notice``) and never writes it back into a link.
NOTICE_PARAM = "pp_notice"


def guard_notice(code: str) -> str | None:
    """The sentence for a ``pp_notice`` code written by the server's guard, or None for a
    code it does not write (a hand-made value is then reported as ignored)."""
    if code == "path":
        return ("That address is not a page of this app (it had extra parts after the page "
                "name), so you are on Home; the link's settings were kept.")
    # ASCII digits, at most 9 of each: str.isdigit() also takes '²' and int() refuses
    # strings of more than 4,300 digits, and this must never raise for a hand-made link
    match = re.fullmatch(r"dropped-([0-9]{1,9})-([0-9]{1,9})", code)
    if match:
        total, kept = int(match[1]), int(match[2])
        if kept <= total:
            return (f"The link had {total:,} parameters, more than the 1,000 a page accepts: "
                    f"its {kept} setting(s) of this app were kept and the other "
                    f"{total - kept:,} parameter(s) dropped.")
    return None


class _Invalid(ValueError):
    """A value that cannot be used; the message completes "ignored <name>=<value>: …"."""


def shown(text: str) -> str:
    """``text`` made safe to quote in a Markdown notice: printable, short, in a code span."""
    clean = "".join(c if c.isprintable() and c != "`" else "?" for c in str(text))
    if len(clean) > MAX_SHOWN:
        clean = clean[:MAX_SHOWN] + "…"
    return f"`{clean}`"


def _looks_like_path(value: str) -> bool:
    return any(s in value for s in ("/", "\\", "..", "%2f", "%2F", "%5c", "%5C")) \
        or value.startswith("~")


# ----------------------------------------------------------------------------- value parsers
def _choice(options):
    def parse(value: str):
        if value not in options:
            raise _Invalid("choose one of " + ", ".join(options))
        return value
    return parse


def _whole(lo: int, hi: int):
    def parse(value: str) -> int:
        text = value.strip()
        if not (text.isascii() and text.lstrip("+-").isdigit()):
            raise _Invalid(f"must be a whole number from {lo} to {hi}")
        v = int(text)
        if not lo <= v <= hi:
            raise _Invalid(f"must be a whole number from {lo} to {hi}")
        return v
    return parse


def _number(lo: float, hi: float, hint: str = ""):
    def parse(value: str) -> float:
        try:
            v = float(value)
        except ValueError:
            raise _Invalid(f"must be a number from {lo:g} to {hi:g}{hint}") from None
        if not math.isfinite(v) or not lo <= v <= hi:
            raise _Invalid(f"must be a number from {lo:g} to {hi:g}{hint}")
        return v
    return parse


def _among(options, text=repr):
    """A number that must be one of ``options`` (a select slider's or a selectbox's values)."""
    def parse(value: str):
        try:
            v = float(value)
        except ValueError:
            v = None
        for o in options:
            if v is not None and v == o:
                return o
        raise _Invalid("choose one of " + ", ".join(text(o) for o in options))
    return parse


def _hidden(value: str) -> tuple[int, ...]:
    """The sidebar's (and the command line's) rule: ``pruning.config.parse_hidden``."""
    try:
        return parse_hidden(value)
    except PruningError as exc:  # its message never quotes the value
        raise _Invalid(str(exc)) from None


def _names(options, lo: int = 1):
    """A comma-separated list of distinct names, each one of ``options`` (a multiselect)."""
    def parse(value: str) -> tuple[str, ...]:
        if lo == 0 and value.strip() == "none":
            return ()
        items = tuple(v.strip() for v in value.split(",") if v.strip())
        bad = [v for v in items if v not in options]
        if bad or len(set(items)) != len(items) or len(items) < lo:
            raise _Invalid(f"give {'at least one of ' if lo else 'some of '}"
                           + ", ".join(map(str, options)) + ", separated by commas, each once")
        return items
    return parse


def _numbers_among(options, lo: int = 0):
    """A comma-separated list of distinct numbers, each one of ``options`` (a multiselect)."""
    def parse(value: str) -> tuple:
        out = []
        for text in (v.strip() for v in value.split(",") if v.strip()):
            out.append(_among(options, str)(text))
        if len(set(out)) != len(out) or len(out) < lo:
            raise _Invalid("give some of " + ", ".join(map(str, options)) + ", each once")
        return tuple(out)
    return parse


def _fractions(value: str) -> tuple[float, ...]:
    """The Generalization lab's sparsity levels: distinct values of its menu (LEVEL_MENU,
    which holds every preset's levels)."""
    try:
        out = tuple(float(v) for v in value.split(",") if v.strip())
    except ValueError:
        out = ()
    menu = tuple(sorted(set(_gen.LEVEL_MENU).union(*(p.config.levels
                                                     for p in _gen.PRESETS.values()))))
    if not out or len(set(out)) != len(out) or not all(v in menu for v in out):
        raise _Invalid("give some of " + ", ".join(f"{v:g}" for v in menu) + ", each once")
    return out


def _weights4(value: str) -> tuple[float, ...]:
    """The worked example's four weights, each from -10 to 10."""
    try:
        out = tuple(float(v) for v in value.split(","))
    except ValueError:
        out = ()
    if len(out) != 4 or not all(math.isfinite(v) and -10 <= v <= 10 for v in out):
        raise _Invalid("give four numbers from -10 to 10, e.g. 0.2,0.5,0.1,0.3")
    return out


def _layer_name(value: str) -> str:
    """A weight's parameter name (letters, digits, '_' and single dots), as the page lists."""
    if not re.fullmatch(r"[A-Za-z_]\w*(\.\w+)*", value):
        raise _Invalid("not a layer name of this app")
    return value


def _flag(value: str) -> bool:
    v = value.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise _Invalid("use 1 or 0")


# ----------------------------------------------------------------------------- the table
@dataclass(frozen=True)
class Binding:
    """One widget that shows a setting.

    key:        its session-state key, or a function of the session state giving the key (for
                widgets whose key depends on other widgets).
    to_widget:  setting value -> widget value (None: as is).
    to_text:    widget value -> URL text, then parsed by the link rules (None: ``str``).
    active:     function of the session state; the widget speaks for the setting only when it
                returns True (e.g. a sparsity slider while the page prunes by threshold: no).
    companions: other {key: value} to set with it when the widget is seeded (e.g. the radio
                that makes the page show this widget at all).
    seed:       may this widget be given the setting's value? (False for dynamic keys.)
    read:       function of the session state giving the setting's value when this widget
                changed (default: the widget's own value), e.g. a mode radio whose change
                means "now the threshold slider's value counts".
    """

    key: object
    to_widget: object = None
    to_text: object = None
    active: object = None
    companions: tuple = ()
    seed: bool = True
    read: object = None

    def resolve(self, state: Mapping) -> str | None:
        try:
            return self.key(state) if callable(self.key) else self.key
        except (KeyError, TypeError, ValueError):
            return None


# Widget keys of the pages, as the pages name them (Prune: prune_*, Iterate: it_*, sidebar: set_*).
# A page that adds a widget for one of these settings adds a Binding to its row in PROPS, so
# that opening a link shows the value and moving the widget updates the address bar.
def _pct(fraction: float) -> float:
    return round(100.0 * float(fraction), 6)


def _fraction_text(percent) -> str:
    return repr(round(float(percent) / 100.0, 10))


def _prune_threshold_slider_key(state: Mapping) -> str:
    """The Prune page's threshold slider: one per scorer and output-layer choice."""
    return (f"prune_threshold_{state.get('prune_scorer', 'magnitude')}_"
            f"{state.get('prune_include_output', True)}")


def _prune_threshold(state: Mapping):
    if state.get("prune_threshold_exact_on"):
        return state.get("prune_threshold_exact")
    return state.get(_prune_threshold_slider_key(state))


def _by_threshold(state: Mapping) -> bool:
    return state.get("prune_mode") == "threshold"


def _by_sparsity(state: Mapping) -> bool:
    return state.get("prune_mode", "sparsity") == "sparsity"


def _hidden_text(hidden) -> str:
    return ",".join(str(int(h)) for h in hidden)


def _int_text(v) -> str:
    return str(int(v))


def _number_text(v: float) -> str:
    return repr(float(v))  # shortest text that reads back as exactly the same float


@dataclass(frozen=True)
class Prop:
    """One setting a link carries (one field of ``AppSettings``).

    parse:   URL text -> value, by the same rules as the widgets (raises ``_Invalid``, whose
             message completes "ignored <name>=<value>: …").
    encode:  value -> URL text (``parse(encode(v)) == v``).
    in_link: function of the settings: is this one written to a link? (default: when its
             value is not None).
    widgets: the widgets that show it (see ``Binding``).
    resets:  settings that go back to None (the page's default) when the user changes this
             one, because they only mean something for its old value (a layer's threshold
             when another layer is chosen).
    """

    name: str
    parse: Callable[[str], object]
    encode: Callable[[object], str] = str
    in_link: Callable[[AppSettings], bool] | None = None
    widgets: tuple[Binding, ...] = ()
    resets: tuple[str, ...] = ()

    def written(self, settings: AppSettings) -> bool:
        if self.in_link is not None:
            return bool(self.in_link(settings))
        return getattr(settings, self.name) is not None


_DEFAULTS_FOR_LINK = AppSettings()


def _flag_text(on) -> str:
    return "1" if on else "0"


def _list_text(values) -> str:
    return ",".join(str(v) for v in values) or "none"


def _numbers_text(values) -> str:
    return ",".join(repr(float(v)) if isinstance(v, float) else str(int(v)) for v in values)


def _layer_threshold_key(state: Mapping) -> str | None:
    """Threshold basics' slider of the chosen layer: one remembered value per layer."""
    layer = state.get("thr_layer")
    return None if layer is None else f"thr_layer_t:{layer}"


def _preset_key(field: str):
    """The Generalization lab's remembered value ``field`` of the chosen experiment."""
    return lambda state: f"gl_{field}_{state.get('gl_preset', GL_PRESETS[0])}"


def _gl(name: str, field: str, parse, encode, to_widget=None, to_text=None) -> Prop:
    return Prop(name, parse, encode, widgets=(
        Binding(_preset_key(field), to_widget=to_widget, to_text=to_text),))


def _knob(name: str, parse, encode, *widgets: Binding) -> Prop:
    """A setting written to a link only when it differs from its default."""
    default = getattr(_DEFAULTS_FOR_LINK, name)
    return Prop(name, parse, encode,
                in_link=lambda s: getattr(s, name) is not None and getattr(s, name) != default,
                widgets=widgets)


PROPS: tuple[Prop, ...] = (
    Prop("dataset", _choice(tuple(DATASETS)), widgets=(Binding("set_dataset"),)),
    Prop("model", _choice(MODELS), widgets=(Binding("set_model"),)),
    Prop("hidden", _hidden, _hidden_text, widgets=(Binding("set_hidden", to_widget=_hidden_text),)),
    Prop("seed", _whole(0, MAX_SEED), _int_text, widgets=(Binding("set_seed", to_widget=int),)),
    Prop("scorer", _choice(tuple(SCORERS)),
         widgets=(Binding("prune_scorer"), Binding("it_scorer"))),
    Prop("scope", _choice(tuple(SCOPES)),
         widgets=(Binding("prune_scope"), Binding("it_scope"), Binding("sc_scope"))),
    Prop("sparsity", _number(0.0, 1.0, " (a fraction: 0.9 removes 90 %)"), _number_text,
         widgets=(
             Binding("prune_sparsity", _pct, _fraction_text, active=_by_sparsity,
                     companions=(("prune_mode", "sparsity"),)),
             Binding("prune_mode", to_text=_fraction_text, active=_by_sparsity, seed=False,
                     read=lambda state: state.get("prune_sparsity", 90.0)),
             Binding("it_sparsity", _pct, _fraction_text),
         )),
    Prop("threshold", _number(0.0, MAX_THRESHOLD), _number_text,
         in_link=lambda s: s.sparsity is None and s.threshold is not None,
         widgets=(
             Binding("prune_threshold_exact", float, repr,
                     active=lambda state: (_by_threshold(state)
                                           and bool(state.get("prune_threshold_exact_on"))),
                     companions=(("prune_mode", "threshold"), ("prune_threshold_exact_on", True))),
             Binding(_prune_threshold_slider_key, to_text=repr, seed=False,
                     active=lambda state: (_by_threshold(state)
                                           and not state.get("prune_threshold_exact_on"))),
             Binding("prune_mode", to_text=repr, active=_by_threshold, read=_prune_threshold,
                     seed=False),
             Binding("prune_threshold_exact_on", to_text=repr, active=_by_threshold,
                     read=_prune_threshold, seed=False),
         )),
    Prop("schedule", _choice(tuple(SCHEDULES)), widgets=(Binding("it_schedule"),)),
    Prop("rounds", _whole(1, MAX_ROUNDS), _int_text, widgets=(Binding("it_rounds", to_widget=int),)),
    Prop("classroom", _flag, lambda on: "1", in_link=lambda s: s.classroom,
         widgets=(Binding("set_classroom", to_widget=bool, to_text=lambda v: "1" if v else "0"),)),
    Prop("step", _whole(1, LESSON_STEPS), _int_text,
         widgets=(Binding("lesson_step", to_widget=int),)),
    # Every other setting that changes a number. Written only when it differs from its
    # default (a link stays short; an absent one opens the same default).
    _knob("epochs", _whole(0, 500), _int_text, Binding("set_epochs", to_widget=int)),
    _knob("train_size", _whole(0, 100_000), _int_text, Binding("set_train_size", to_widget=int)),
    _knob("label_noise", _number(0.0, 1.0), _number_text,
          Binding("set_label_noise", to_widget=float)),
    _knob("noise", _number(0.0, 1.0), _number_text, Binding("set_noise", to_widget=float)),
    _knob("lr", _number(0.0, 1.0), _number_text, Binding("train_lr", to_widget=float)),
    _knob("optimizer", _choice(OPTIMIZERS), str, Binding("train_optimizer")),
    _knob("batch_size", _whole(1, 4096), _int_text, Binding("train_batch_size", to_widget=int)),
    _knob("weight_decay", _number(0.0, 1.0), _number_text,
          Binding("train_weight_decay", to_widget=float)),
    _knob("ft_epochs", _whole(0, 200), _int_text, Binding("ft_epochs", to_widget=int)),
    _knob("ft_lr", _among(FT_LEARNING_RATES, lambda v: f"{v:g}"), _number_text,
          Binding("ft_lr", to_widget=float)),
    _knob("ft_optimizer", _choice(OPTIMIZERS), str, Binding("ft_optimizer")),
    _knob("ft_momentum", _number(0.0, 0.99), _number_text, Binding("ft_momentum", to_widget=float)),
    _knob("ft_batch", _among(FT_BATCH_SIZES, str), _int_text, Binding("ft_batch", to_widget=int)),
    _knob("it_epochs", _whole(0, 100), _int_text, Binding("it_epochs", to_widget=int)),
    _knob("it_rewind", _flag, _flag_text, Binding("it_rewind", to_widget=bool, to_text=_flag_text)),
    _knob("it_rewind_epochs", _whole(0, 100), _int_text,
          Binding("it_rewind_epochs", to_widget=int)),
    _knob("it_oneshot", _flag, _flag_text,
          Binding("it_oneshot", to_widget=bool, to_text=_flag_text)),
    _knob("it_baseline", _flag, _flag_text,
          Binding("it_baseline", to_widget=bool, to_text=_flag_text)),
    _knob("sc_seeds", _whole(1, 10), _int_text, Binding("sc_seeds", to_widget=int)),
    _knob("sc_ft_epochs", _whole(0, 50), _int_text, Binding("sc_ft_epochs", to_widget=int)),
    _knob("sc_sparsity", _whole(5, 99), _int_text, Binding("sc_sparsity", to_widget=int)),
    _knob("sc_mv_epochs", _whole(1, 50), _int_text, Binding("sc_mv_epochs", to_widget=int)),
    _knob("sc_scorers", _names(tuple(SCORERS)), _list_text,
          Binding("sc_scorers", to_widget=list, to_text=_list_text)),
    _knob("include_output", _flag, _flag_text,
          Binding("prune_include_output", to_widget=bool, to_text=_flag_text)),
    _knob("start", _choice(PRUNE_STARTS), str, Binding("prune_start")),
    _knob("lt_rounds", _whole(1, 8), _int_text, Binding("lt_rounds", to_widget=int)),
    _knob("lt_rate", _among(LOTTERY_RATES, str), _int_text, Binding("lt_rate", to_widget=int)),
    _knob("lt_epochs", _whole(1, 100), _int_text, Binding("lt_epochs", to_widget=int)),
    _knob("lt_rewind", _whole(0, 99), _int_text, Binding("lt_rewind", to_widget=int)),
    _knob("st_method", _choice(UNIT_OPTIONS), str, Binding("st_method")),
    _knob("st_fraction", _among(STRUCTURED_FRACTIONS, str), _int_text,
          Binding("st_fraction", to_widget=int)),
    _knob("st_ft_epochs", _whole(0, 50), _int_text, Binding("st_ft_epochs", to_widget=int)),
    _knob("st_budget_fracs", _numbers_among(BUDGET_FRACTIONS), _numbers_text,
          Binding("st_budget_fracs", to_widget=list, to_text=_numbers_text)),
    _knob("st_budget_method", _choice(UNIT_METHODS), str, Binding("st_budget_method")),
    _knob("st_budget_ft", _whole(0, 50), _int_text, Binding("st_budget_ft", to_widget=int)),
    _knob("st_sens_scorer", _choice(SENSITIVITY_SCORERS), str, Binding("st_sens_scorer")),
    _knob("st_sens_tol", _among(SENSITIVITY_TOLERANCES, str), _number_text,
          Binding("st_sens_tol", to_widget=float)),
    Prop("ex_weights", _weights4, _numbers_text, widgets=tuple(
        Binding(f"thr_w{i}", to_widget=lambda v, i=i: float(v[i]), to_text=_numbers_text,
                read=lambda state: [state[f"thr_w{j}"] for j in range(4)])
        for i in range(4))),
    Prop("ex_t", _number(0.0, 100.0), _number_text, widgets=(Binding("thr_t", to_widget=float),)),
    Prop("thr_layer", _layer_name, widgets=(Binding("thr_layer"),), resets=("thr_t",)),
    Prop("thr_t", _number(0.0, MAX_THRESHOLD), _number_text,
         widgets=(Binding(_layer_threshold_key, to_widget=float),)),
    _knob("thr_target", _whole(0, 100), _int_text, Binding("thr_layer_target", to_widget=int)),
    Prop("thr_global", _number(0.0, MAX_THRESHOLD), _number_text,
         widgets=(Binding("thr_global_t", to_widget=float),)),
    Prop("gl_preset", _choice(GL_PRESETS), in_link=lambda s: s.gl_preset != GL_PRESETS[0],
         widgets=(Binding("gl_preset"),),
         resets=("gl_levels", "gl_seeds", "gl_rewind", "gl_epochs", "gl_ft", "gl_patience",
                 "gl_controls")),
    _gl("gl_levels", "levels", _fractions, _numbers_text, to_widget=list, to_text=_numbers_text),
    _gl("gl_seeds", "seeds", _whole(1, 5), _int_text, to_widget=int),
    _gl("gl_rewind", "rewind", _flag, _flag_text, to_widget=bool, to_text=_flag_text),
    _gl("gl_epochs", "epochs", _whole(1, 1000), _int_text, to_widget=int),
    _gl("gl_ft", "ft", _whole(0, 1000), _int_text, to_widget=int),
    _gl("gl_patience", "patience", _whole(1, 1000), _int_text, to_widget=int),
    _gl("gl_controls", "controls", _names(GL_CONTROLS, lo=0), _list_text, to_widget=list,
        to_text=_list_text),
    _knob("ls_sparsity", _among(LESSON_SPARSITIES, str), _number_text,
          Binding("lesson_sparsity", to_widget=float)),
    _knob("ls_ft_epochs", _whole(1, 50), _int_text, Binding("lesson_ft_epochs", to_widget=int)),
    Prop("ls_again", _among(tuple(x / 2 for x in range(1, 200)), str), _number_text,
         widgets=(Binding("lesson_again", to_widget=float),)),
    _knob("sh_finetune", _flag, _flag_text,
          Binding("shrank_default_finetune", to_widget=bool, to_text=_flag_text)),
)
assert tuple(p.name for p in PROPS) == PARAM_NAMES, "one row per AppSettings field, in order"

_PARSERS = {p.name: p.parse for p in PROPS}

#: Page widgets (no ``value=`` default) whose values are kept while their page is not shown:
#: Streamlit drops an undrawn widget's state, so without this a fine-tuning setting came back
#: as the widget's minimum after a visit to another page, and the link changed with it.
KEPT_WIDGETS = ("ft_epochs", "ft_lr", "ft_optimizer", "ft_momentum", "ft_batch",
                "it_epochs", "it_rewind", "it_rewind_epochs", "it_oneshot", "it_baseline",
                "prune_include_output", "prune_start", "lesson_sparsity", "lesson_ft_epochs",
                "lesson_again", "shrank_default_finetune")

#: {setting: the widgets that show it}, for the UI's URL sync (``settings_from_widgets`` & co.).
WIDGET_BINDINGS: dict[str, list[Binding]] = {p.name: list(p.widgets) for p in PROPS if p.widgets}


# ----------------------------------------------------------------------------- parse / encode
def parse_query_params(params: Mapping[str, object],
                       base: AppSettings | None = None) -> tuple[AppSettings, list[str]]:
    """Settings from query parameters, starting from ``base`` (default: ``AppSettings()``).

    ``params`` maps names to a string or a list of strings (a repeated name: the last one
    counts, as in ``st.query_params``). Returns the settings and human-readable notices, one
    per ignored or adjusted value. Never raises for any input.
    """
    settings = base or AppSettings()
    notices: list[str] = []
    values: dict[str, object] = {}
    items = list(params.items()) if isinstance(params, Mapping) else []
    for name, raw in items:     # the server's guard says why it redirected (not a setting)
        if str(name) == NOTICE_PARAM:
            codes = raw if isinstance(raw, (list, tuple)) else [raw]
            for code in codes[:4]:
                text = guard_notice(str(code))
                notices.append(text or f"Ignored {shown(NOTICE_PARAM)}={shown(str(code))}: "
                                       "it is not a message of this server.")
    items = [(n, v) for n, v in items if str(n) != NOTICE_PARAM]
    # However many parameters a link has, the app's own settings are read by name and kept;
    # only the others are dropped, and counted (never listed in full).
    unknown = [str(n) for n, _ in items if str(n) not in _PARSERS]
    items = [(str(n), v) for n, v in items if str(n) in _PARSERS]
    for name, raw in items:
        if isinstance(raw, (list, tuple)):
            if not raw:
                continue
            raw = raw[-1]
        value = str(raw)
        problem = None
        if value.strip() == "":
            problem = "the value is empty"
        elif len(value) > MAX_VALUE_CHARS:
            problem = f"the value is {len(value)} characters long (at most {MAX_VALUE_CHARS})"
        elif "<" in value or ">" in value:
            problem = "it contains HTML markup (< or >), which no setting takes"
        elif _looks_like_path(value):
            problem = "it looks like a file path, which no setting takes"
        elif not value.isprintable():
            problem = "it contains control characters"
        if problem is None:
            try:
                values[name] = _PARSERS[name](value)
            except _Invalid as exc:
                problem = str(exc)
        if problem is not None:
            notices.append(f"Ignored {shown(name)}={shown(value)}: {problem}.")
    if unknown:
        listed = ", ".join(shown(n) for n in unknown[:5])
        more = f" and {len(unknown) - 5:,} more" if len(unknown) > 5 else ""
        kept = (f" The link has {len(unknown) + len(items):,} parameters: its "
                f"{len(items)} setting(s) of this app were read." if len(unknown) > MAX_PARAMS
                else "")
        notices.append(f"Ignored unknown setting(s) {listed}{more}; this app reads "
                       f"{', '.join(PARAM_NAMES[:SHOWN_NAMES])} and {len(PARAM_NAMES) - SHOWN_NAMES} "
                       f"more (a copied link has them all).{kept}")
    if "sparsity" in values and "threshold" in values:
        notices.append("The link gives both a sparsity and a threshold; the sparsity is used.")
        del values["threshold"]
    if "sparsity" in values:
        values["threshold"] = None
    elif "threshold" in values:
        values["sparsity"] = None
    return replace(settings, **values), notices


def encode_settings(settings: AppSettings) -> dict[str, str]:
    """Query parameters for a link that opens ``settings`` (``classroom`` only when on)."""
    return {p.name: p.encode(getattr(settings, p.name)) for p in PROPS if p.written(settings)}


def share_query(settings: AppSettings, classroom: bool = False) -> dict[str, str]:
    """Query parameters of a link to hand out: every setting of ``settings``, with classroom
    mode only when asked for (students get the plain page, the projector the large one)."""
    return encode_settings(replace(settings, classroom=bool(classroom)))


def given_settings(params: Mapping[str, object]) -> set[str]:
    """Names of the settings ``params`` gives a usable value for (those a link *chose*)."""
    if not isinstance(params, Mapping):
        return set()
    return {n for n in PARAM_NAMES if n in params and not parse_query_params({n: params[n]})[1]}


def validate_settings(settings: AppSettings) -> list[str]:
    """Problems of a settings object built in code (empty when it encodes to a valid link)."""
    parsed, notices = parse_query_params(encode_settings(settings))
    if parsed != settings and not notices:
        notices.append("some values cannot be written to a link exactly")
    if (settings.sparsity is None) == (settings.threshold is None):
        notices.append("exactly one of sparsity and threshold must be set")
    return notices


# ----------------------------------------------------------------------------- widgets <-> settings
def bound_values(state: Mapping, bindings: Mapping[str, list[Binding]]) -> dict:
    """{session key: value} of every bound widget present in ``state`` (to remember them)."""
    out = {}
    for group in bindings.values():
        for b in group:
            key = b.resolve(state)
            if key is not None and key in state:
                out[key] = state[key]
    return out


def _binding_text(b: Binding, key: str, state: Mapping) -> str | None:
    """The URL text the widget stands for now, or None (inactive, no value yet, unreadable)."""
    if b.active is not None and not b.active(state):
        return None
    try:
        value = b.read(state) if b.read is not None else state[key]
        if value is None:
            return None
        return b.to_text(value) if b.to_text else str(value)
    except (KeyError, TypeError, ValueError):
        return None


def settings_from_widgets(state: Mapping, seen: Mapping, settings: AppSettings,
                          bindings: Mapping[str, list[Binding]]
                          ) -> tuple[AppSettings, set[str], set[str]]:
    """The settings after the user moved a widget.

    A widget counts only when the *user* changed it: its key was in ``seen`` (the values at the
    end of the previous run) and its value is different now. Widgets that just appeared (a
    page opened) never change the settings; they were seeded from them (``widget_values``).
    Values are re-parsed with the link rules, so a widget can never put an invalid value into
    the URL.

    Returns (new settings, names that changed, names *pending*): a pending setting's widget
    changed but its value is not there yet (a mode radio switched to a slider that the page
    draws later in this run); ``resolve_pending`` reads it at the end of the run.
    """
    changed: dict[str, str] = {}
    pending: set[str] = set()
    for name, group in bindings.items():
        for b in group:
            key = b.resolve(state)
            if key is None or key not in state or key not in seen or state[key] == seen[key]:
                continue
            if b.active is not None and not b.active(state):
                continue
            text = _binding_text(b, key, state)
            if text is None:
                pending.add(name)
                continue
            changed[name] = text
            pending.discard(name)
            break
    new, names = _apply(settings, changed)
    resets = {r for p in PROPS if p.name in names for r in p.resets} - names
    if resets:
        new = replace(new, **{r: None for r in resets})
        names |= {r for r in resets if getattr(settings, r) is not None}
    return new, names, pending - names


def resolve_pending(state: Mapping, settings: AppSettings, pending,
                    bindings: Mapping[str, list[Binding]]) -> tuple[AppSettings, set[str]]:
    """Settings whose widget value was pending, read from the first active bound widget."""
    changed: dict[str, str] = {}
    for name in pending:
        for b in bindings.get(name, ()):
            key = b.resolve(state)
            if key is None or key not in state:
                continue
            text = _binding_text(b, key, state)
            if text is not None:
                changed[name] = text
                break
    return _apply(settings, changed)


def _apply(settings: AppSettings, changed: Mapping[str, str]) -> tuple[AppSettings, set[str]]:
    if not changed:
        return settings, set()
    new, _ = parse_query_params(changed, base=settings)
    return new, {n for n in PARAM_NAMES if getattr(new, n) != getattr(settings, n)}


def _seeded_widgets(settings: AppSettings, names, bindings: Mapping[str, list[Binding]],
                    state: Mapping):
    """(binding, session key, widget value) for every seedable widget bound to the settings
    ``names`` that are set (None is skipped): the walk both functions below filter."""
    names = set(names)
    for name in (n for n in PARAM_NAMES if n in names):   # a key may depend on one before
        value = getattr(settings, name)
        if value is None:
            continue
        for b in bindings.get(name, ()):
            key = b.resolve(state)
            if b.seed and key is not None:
                yield b, key, (b.to_widget(value) if b.to_widget else value)


def propagated_values(settings: AppSettings, names, bindings: Mapping[str, list[Binding]],
                      state: Mapping) -> dict:
    """{session key: value} that bring the *other* widgets of the settings ``names`` (which
    the user just changed through one of them) in line with ``settings``.

    A widget of a page not shown this run keeps the value it was seeded with; without this,
    choosing random and then magnitude on Prune left Iterate's scorer at random, and a link
    and a page disagreed. Only seedable widgets already in ``state`` whose value differs are
    returned (no companions: changing a setting never switches another page's mode)."""
    return {key: want for b, key, want in _seeded_widgets(settings, names, bindings, state)
            if key in state and state[key] != want}


def widget_values(settings: AppSettings, names, bindings: Mapping[str, list[Binding]],
                  state: Mapping) -> dict:
    """{session key: value} that seed the bound widgets *missing* from ``state`` with
    ``settings`` for the setting ``names`` (a setting that is None is skipped, e.g. the
    sparsity while a threshold is used). Present widgets are left alone: they show what the
    user chose."""
    out: dict = {}
    # keys resolved against what is seeded so far: the threshold slider of the link's layer
    for b, key, want in _seeded_widgets(settings, names, bindings, ChainMap(out, state)):
        if key in state:
            continue
        out[key] = want
        for k, v in b.companions:
            if k not in state:
                out[k] = v
    return out
