"""Load while an operation runs: wrk for GETs, threads that post real votes.

Both run at the lowest CPU priority (nice 19): they fill what the machine has
spare, and a deploy under load still gets the CPU it needs, so an operation
takes about as long as it would unloaded, with requests flowing throughout.
"""

import contextlib
import http.client
import os
import signal
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import vote_form  # bench/, see __init__
import wrk

from .sandbox import tls_context


@dataclass
class GetLoad:
    """What wrk saw."""

    requests: int = 0
    failed: int = 0
    max_latency_ms: float = 0.0
    detail: str = ""


def parse_wrk(output: str) -> GetLoad:
    """Requests, failures (socket errors, non-2xx/3xx) and the worst latency."""
    sockets, non_2xx = wrk.socket_errors(output), wrk.non_2xx(output)
    load = GetLoad(
        requests=wrk.requests(output),
        failed=sum(sockets.values()) + non_2xx,
        max_latency_ms=wrk.max_latency_ms(output),
    )
    if load.failed:
        load.detail = f"socket errors {sockets}; non-2xx or 3xx {non_2xx}"
    return load


class Wrk:
    """wrk against one URL until stopped (SIGINT makes it print its totals)."""

    def __init__(self, url: str, connections: int, limit_seconds: int) -> None:
        self.process = subprocess.Popen(
            [
                "nice",
                "-n",
                "19",
                "wrk",
                "--threads",
                "1",
                "--connections",
                str(connections),
                "--duration",
                f"{limit_seconds}s",
                "--timeout",
                "30s",
                url,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def stop(self) -> GetLoad:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        output, _ = self.process.communicate(timeout=30)
        return parse_wrk(output)


@dataclass
class VoteLoad:
    """What the voters saw: votes answered 302, failures, the worst latency."""

    acknowledged: int = 0
    failed: int = 0
    max_latency_ms: float = 0.0
    errors: list[str] = field(default_factory=list)

    def record(self, ok: bool, error: str, ms: float, lock: threading.Lock) -> None:
        with lock:
            self.max_latency_ms = max(self.max_latency_ms, ms)
            if ok:
                self.acknowledged += 1
            else:
                self.failed += 1
                self.errors.append(error)

    def add(self, other: "VoteLoad") -> None:
        self.acknowledged += other.acknowledged
        self.failed += other.failed
        self.errors += other.errors
        self.max_latency_ms = max(self.max_latency_ms, other.max_latency_ms)


def _get(connection: http.client.HTTPSConnection, path: str) -> tuple[int, str, str]:
    """Status, session cookies and body of one GET."""
    connection.request("GET", path)
    response = connection.getresponse()
    cookies = "; ".join(
        value.split(";", 1)[0]
        for name, value in response.getheaders()
        if name.lower() == "set-cookie"
    )
    return response.status, cookies, response.read().decode()


def first_choice(base: str, question_id: int) -> int:
    """The id of the first choice on a question's form."""
    parts = urlsplit(base)
    connection = http.client.HTTPSConnection(
        parts.hostname, parts.port, context=tls_context()
    )
    _, _, page = _get(connection, f"/polls/{question_id}/")
    connection.close()
    return vote_form.first_choice(page)


class Ballot:
    """One voter: a session that opened the form, and the post that votes.

    Every vote is a real form post: the session's CSRF cookie and the form's
    token, a same-origin Referer. A vote counts as acknowledged only when it
    is answered with the redirect to the results (302).
    """

    def __init__(
        self, base: str, question_id: int, choice_id: int, context: ssl.SSLContext
    ) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname, parts.port or 443
        self.context = context
        self.connection = self._connect()
        _, cookies, page = _get(self.connection, f"/polls/{question_id}/")
        self.path = f"/polls/{question_id}/vote/"
        self.body = (
            f"csrfmiddlewaretoken={vote_form.csrf_token(page)}&choice={choice_id}"
        )
        self.headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": cookies,
            "Referer": f"{base}/polls/{question_id}/",
        }

    def _connect(self) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection(
            self.host, self.port, context=self.context, timeout=30
        )

    def post(self) -> tuple[int, str]:
        """Post the vote: the answer's status and body."""
        self.connection.request("POST", self.path, body=self.body, headers=self.headers)
        response = self.connection.getresponse()
        return response.status, response.read().decode(errors="replace")

    def cast(self) -> tuple[bool, str]:
        """Post the vote: (acknowledged, what went wrong)."""
        try:
            status, _ = self.post()
            return status == 302, f"HTTP {status}"
        except (OSError, http.client.HTTPException) as exc:
            self.connection.close()
            self.connection = self._connect()
            return False, f"{type(exc).__name__}: {exc}"


class Voters:
    """Threads that each open the form once, then post votes until stopped."""

    def __init__(
        self, base: str, question_id: int, choice_id: int, threads: int
    ) -> None:
        self.base = base
        self.question_id = question_id
        self.choice_id = choice_id
        self.context = tls_context()
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.result = VoteLoad()
        self.threads = [
            threading.Thread(target=self._run, daemon=True) for _ in range(threads)
        ]
        self._ready = threading.Barrier(threads + 1)

    def _run(self) -> None:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        ballot = Ballot(self.base, self.question_id, self.choice_id, self.context)
        self._ready.wait()
        while not self.stopping.is_set():
            started = time.monotonic()
            ok, error = ballot.cast()
            self.result.record(
                ok, error, (time.monotonic() - started) * 1000, self.lock
            )

    def start(self) -> None:
        for thread in self.threads:
            thread.start()
        self._ready.wait()

    def stop(self) -> VoteLoad:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=60)
        return self.result


def burst(base: str, question_id: int, choice_id: int, count: int) -> VoteLoad:
    """``count`` voters open the form, wait for each other, then all post once."""
    result, lock = VoteLoad(), threading.Lock()
    ready = threading.Barrier(count)
    context = tls_context()

    def vote() -> None:
        try:
            ballot = Ballot(base, question_id, choice_id, context)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            ready.abort()
            result.record(False, f"form: {type(exc).__name__}: {exc}", 0, lock)
            return
        with contextlib.suppress(threading.BrokenBarrierError):
            ready.wait(timeout=120)
        started = time.monotonic()
        ok, error = ballot.cast()
        result.record(ok, error, (time.monotonic() - started) * 1000, lock)

    threads = [threading.Thread(target=vote) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    return result
