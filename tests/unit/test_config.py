"""Hidden sizes: one parser (``pruning.config.parse_hidden``), one rule set for the sidebar, a
shared link and the command line."""
import pytest

from pruning.app.url_state import AppSettings, parse_query_params
from pruning.cli.main import build_parser
from pruning.config import MAX_HIDDEN_LAYERS, MAX_HIDDEN_WIDTH, parse_hidden
from pruning.errors import PruningError

VALID = [
    ("300,100", (300, 100)),
    ("16", (16,)),
    (" 64 , 32 ,16 ", (64, 32, 16)),        # spaces around a number are fine
    ("1,2,3,4,5,6", (1, 2, 3, 4, 5, 6)),
    ("4096", (4096,)),
    ("007", (7,)),
]

INVALID = [
    ("", "whole numbers"),
    ("   ", "whole numbers"),
    ("abc", "whole numbers"),
    ("300,,100", "separated by commas"),    # an empty place between commas
    ("300,100,", "separated by commas"),
    ("3 00", "whole numbers"),              # a space inside a number
    ("3e2", "whole numbers"),
    ("1.5", "whole numbers"),
    ("+5", "whole numbers"),
    ("-5", "whole numbers"),
    ("1_000", "whole numbers"),             # int() would read it
    ("١٢", "whole numbers"),                # Arabic-Indic digits: int() would read them
    ("1,2,3,4,5,6,7", f"1 to {MAX_HIDDEN_LAYERS}"),
    ("0", f"from 1 to {MAX_HIDDEN_WIDTH}"),
    ("300,0", f"from 1 to {MAX_HIDDEN_WIDTH}"),
    ("4097", f"from 1 to {MAX_HIDDEN_WIDTH}"),
]


@pytest.mark.parametrize("text, sizes", VALID)
def test_valid_hidden_sizes(text, sizes):
    assert parse_hidden(text) == sizes


@pytest.mark.parametrize("text, reason", INVALID)
def test_invalid_hidden_sizes_say_what_is_allowed(text, reason):
    with pytest.raises(PruningError, match="hidden sizes") as err:
        parse_hidden(text)
    assert reason in str(err.value)
    assert repr(text) not in str(err.value), "the message never echoes the input"


def test_the_message_names_the_field():
    with pytest.raises(PruningError, match="^channels must .* like 8,16$"):
        parse_hidden("x", "channels", "8,16")


def _cli_hidden(text: str):
    """--hidden as the command line reads it (None: refused with exit status 2)."""
    try:
        args = build_parser().parse_args(["run", "--sparsity", "0.5", "--hidden", text])
    except SystemExit as exit_:
        assert exit_.code == 2
        return None
    return args.hidden


@pytest.mark.parametrize("text", [t for t, _ in VALID] + [t for t, _ in INVALID])
def test_link_and_command_line_use_the_same_rule(text, capsys):
    try:
        expect = parse_hidden(text)
    except PruningError:
        expect = None
    settings, notices = parse_query_params({"hidden": text})
    if expect is None:
        assert settings.hidden == AppSettings().hidden and len(notices) == 1
    else:
        assert settings.hidden == expect and notices == []
    assert _cli_hidden(text) == expect
    if expect is None:
        assert "argument --hidden: hidden sizes must" in capsys.readouterr().err
