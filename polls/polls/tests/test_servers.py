"""The app under each real server it is meant to run on, over real sockets."""

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .servers import BIN, Browser, free_port, manage, project_env, serve

SERVERS = {
    "gunicorn sync on polls.wsgi": ["gunicorn", "polls.wsgi"],
    "gunicorn UvicornWorker on polls.asgi": [
        "gunicorn",
        "polls.asgi",
        "-k",
        "uvicorn_worker.UvicornWorker",
    ],
    "gunicorn project worker on polls.asgi": [
        "gunicorn",
        "polls.asgi",
        "-k",
        "polls.workers.UvicornWorker",
    ],
    "gunicorn asgi worker on polls.asgi": [
        "gunicorn",
        "polls.asgi",
        "--worker-class",
        "asgi",
    ],
    "uvicorn on polls.asgi": ["uvicorn", "polls.asgi:application", "--lifespan", "off"],
}


def test_uvicorn_worker_on_wsgi_needs_the_interface(database: Path) -> None:
    """Pointed at polls.wsgi, the worker answers 500 unless told it is WSGI."""
    spec = ["gunicorn", "polls.wsgi", "-k", "polls.workers.UvicornWorker"]
    for interface, status in (("auto", 500), ("wsgi", 200)):
        port = free_port()
        env = project_env(database, POLLS_UVICORN_INTERFACE=interface)
        with serve(command_for(spec, port), env, port) as base:
            assert Browser(base).get("/polls/")[0] == status


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file with the sample questions."""
    path = tmp_path_factory.mktemp("db") / "polls.sqlite3"
    env = project_env(path)
    for command in (["migrate", "--no-input"], ["seed_polls"]):
        result = manage(env, *command)
        assert result.returncode == 0, result.stderr
    return path


def server_command(name: str, port: int) -> list[str]:
    return command_for(SERVERS[name], port)


def command_for(spec: list[str], port: int) -> list[str]:
    program, *args = spec
    command = [str(BIN / program), *args]
    if program == "gunicorn":
        return [*command, "--bind", f"127.0.0.1:{port}", "--workers", "2"]
    return [*command, "--port", str(port)]


def choice_of(database: Path, question_id: int) -> tuple[int, int]:
    """The first choice of a question: its id and its vote count."""
    with sqlite3.connect(database) as db:
        return db.execute(
            "SELECT id, votes FROM polls_choice WHERE question_id = ? ORDER BY id",
            (question_id,),
        ).fetchone()


@pytest.mark.parametrize("name", list(SERVERS))
def test_server_answers_index_and_counts_a_vote(name: str, database: Path) -> None:
    """Each server command serves /polls/ with 200 and records a vote once."""
    port = free_port()
    with serve(server_command(name, port), project_env(database), port) as base:
        browser = Browser(base)
        status, page = browser.get("/polls/")
        assert status == 200
        assert "Which database for one host?" in page
        choice_id, before = choice_of(database, 2)
        assert browser.vote(2, choice_id) == 302
        assert choice_of(database, 2) == (choice_id, before + 1)


@pytest.mark.parametrize(
    "name", ["gunicorn sync on polls.wsgi", "gunicorn project worker on polls.asgi"]
)
def test_concurrent_votes_are_all_counted(name: str, database: Path) -> None:
    """N votes sent at once from 16 clients to 3 workers give exactly N more."""
    sent = 240
    port = free_port()
    command = [*server_command(name, port), "--workers", "3"]
    with serve(command, project_env(database), port) as base:
        choice_id, before = choice_of(database, 1)
        browsers = [Browser(base) for _ in range(16)]

        def vote(n: int) -> int:
            return browsers[n % len(browsers)].vote(1, choice_id)

        with ThreadPoolExecutor(max_workers=len(browsers)) as pool:
            statuses = list(pool.map(vote, range(sent)))
        _, after = choice_of(database, 1)
    print(f"{name}: votes sent {sent}, counted {after - before}")
    assert statuses.count(302) == sent, {s: statuses.count(s) for s in set(statuses)}
    assert after - before == sent


def test_healthz_is_503_before_migrate_and_200_after(tmp_path: Path) -> None:
    """The health check answers 200 only once the database answers a real query."""
    database = tmp_path / "fresh.sqlite3"
    env = project_env(database)
    port = free_port()
    with serve(server_command("gunicorn sync on polls.wsgi", port), env, port) as base:
        browser = Browser(base)
        assert browser.get("/healthz")[0] == 503
        assert manage(env, "migrate", "--no-input").returncode == 0
        assert browser.get("/healthz") == (200, '{"status": "ok"}')


@pytest.mark.parametrize(
    "name", ["gunicorn sync on polls.wsgi", "gunicorn project worker on polls.asgi"]
)
def test_healthz_is_503_when_the_database_directory_is_short_of_room(
    name: str, database: Path
) -> None:
    """Under POLLS_HEALTH_MIN_FREE_MB free next to the SQLite file: 503, and why."""
    env = project_env(database, POLLS_HEALTH_MIN_FREE_MB=str(2**40))
    port = free_port()
    with serve(server_command(name, port), env, port) as base:
        status, body = Browser(base).get("/healthz")
    assert status == 503
    assert f"MiB free in {database.parent}" in json.loads(body)["storage"]


@pytest.mark.parametrize(
    "name", ["gunicorn sync on polls.wsgi", "gunicorn project worker on polls.asgi"]
)
def test_workers_die_with_a_killed_master(name: str, database: Path) -> None:
    """After kill -9 of the master, its workers exit within 3 seconds."""
    port = free_port()
    command = server_command(name, port)
    with serve(command, project_env(database), port):
        master = int(
            subprocess.check_output(["pgrep", "-f", "-o", f"127.0.0.1:{port}"]).strip()
        )
        workers = [
            int(pid)
            for pid in subprocess.check_output(["pgrep", "-P", str(master)]).split()
        ]
        assert workers
        os.kill(master, signal.SIGKILL)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and any(alive(pid) for pid in workers):
            time.sleep(0.1)
        assert not [pid for pid in workers if alive(pid)]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead; it only waits for its (dead) parent to reap it.
    return "zombie" not in Path(f"/proc/{pid}/status").read_text()


def raw_request(connection: socket.socket) -> bytes:
    """Send one keep-alive GET of /healthz and read the whole response."""
    connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
    response = b""
    while True:
        head, _, body = response.partition(b"\r\n\r\n")
        length = re.search(rb"(?i)\r\ncontent-length: (\d+)", head)
        if length and len(body) >= int(length.group(1)):
            return response
        chunk = connection.recv(65536)
        if not chunk:
            return response
        response += chunk


@pytest.mark.parametrize("stage", ["idle keep-alive", "no request yet"])
def test_stopping_worker_answers_what_arrives(stage: str, database: Path) -> None:
    """A stopping worker serves a request sent on an open connection, then closes.

    Under nginx this is the request written into an idle upstream connection,
    or into a fresh one, at the moment the service restarts: uvicorn's own
    shutdown closes such connections and the request fails.
    """
    port = free_port()
    env = project_env(database, GUNICORN_KEEPALIVE="5")
    command = server_command("gunicorn project worker on polls.asgi", port)
    with serve(command, env, port):
        master = int(
            subprocess.check_output(["pgrep", "-f", "-o", f"127.0.0.1:{port}"]).strip()
        )
        connection = socket.create_connection(("127.0.0.1", port), timeout=5)
        if stage == "idle keep-alive":
            assert raw_request(connection).startswith(b"HTTP/1.1 200")
        os.kill(master, signal.SIGTERM)
        time.sleep(1)  # the worker has begun its shutdown
        response = raw_request(connection)
        assert response.startswith(b"HTTP/1.1 200"), response
        assert b"\r\nconnection: close\r\n" in response.lower()
        assert connection.recv(1) == b""  # and then it closed
