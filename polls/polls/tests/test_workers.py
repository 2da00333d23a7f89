import subprocess
import sys

import pytest

from polls.environ import InvalidVariable
from polls.uvicorn_options import WORKER_MODULE, uvicorn_options


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


def test_options_name_the_worker_module() -> None:
    """The check's prefix is the module that defines the worker class."""
    import polls.workers

    assert polls.workers.__name__ == WORKER_MODULE


def test_checking_options_does_not_import_uvicorn() -> None:
    """gunicorn's master checks the options for every worker class; only the
    polls worker needs uvicorn."""
    code = (
        "import sys; from polls.uvicorn_options import require_valid_options; "
        "require_valid_options('polls.workers.UvicornWorker'); "
        "sys.exit('uvicorn' in sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
