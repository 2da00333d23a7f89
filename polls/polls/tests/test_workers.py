import pytest

from polls.environ import InvalidVariable
from polls.workers import uvicorn_options


def test_defaults_turn_lifespan_off() -> None:
    """With nothing set, lifespan is off and uvicorn picks loop and parser."""
    assert uvicorn_options({}) == {
        "lifespan": "off",
        "loop": "auto",
        "http": "auto",
        "interface": "auto",
    }


def test_environment_chooses_loop_and_parser() -> None:
    """POLLS_UVICORN_* variables reach uvicorn's Config."""
    options = uvicorn_options(
        {"POLLS_UVICORN_LOOP": "uvloop", "POLLS_UVICORN_HTTP": "httptools"}
    )
    assert options == {
        "lifespan": "off",
        "loop": "uvloop",
        "http": "httptools",
        "interface": "auto",
    }


def test_unknown_value_is_refused() -> None:
    """A value uvicorn does not know is an error that names the variable."""
    with pytest.raises(InvalidVariable, match="POLLS_UVICORN_HTTP must be one of"):
        uvicorn_options({"POLLS_UVICORN_HTTP": "h3"})
