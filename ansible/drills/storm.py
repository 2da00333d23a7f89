"""The bad-input storm: hundreds of malformed or hostile requests, no 5xx.

Each request is written byte for byte on a TLS connection of its own, so
nothing is tidied up by an HTTP library: bad methods, paths, Host headers,
protocol junk, huge headers and bodies, too many form fields, invalid and
foreign choice ids, missing or wrong CSRF. Every one must be answered below
500 (or closed unanswered, nginx's 444), no vote may be counted, the
application may log no traceback, and /healthz must answer after.
"""

from __future__ import annotations

import contextlib
import re
import socket
import ssl
import time
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from .sandbox import tls_context

HOST = "localhost"


@dataclass
class Form:
    """What a real voter's GET of a question hands over: token and cookie."""

    token: str
    cookie: str
    choices: list[int]


@dataclass
class Tally:
    """Answers per category, by status class."""

    counts: dict[str, Counter[str]] = field(default_factory=dict)
    fivexx: list[str] = field(default_factory=list)

    def add(self, category: str, status: int, label: str) -> None:
        kind = "no answer" if status == 0 else f"{status // 100}xx"
        self.counts.setdefault(category, Counter())[kind] += 1
        if status >= 500:
            self.fivexx.append(f"{status} {category}: {label[:80]!r}")

    @property
    def total(self) -> int:
        return sum(sum(counter.values()) for counter in self.counts.values())

    def table(self) -> str:
        kinds = ["2xx", "3xx", "4xx", "5xx", "no answer"]
        lines = [
            "| category | requests | " + " | ".join(kinds) + " |",
            "| --- | ---: | " + " | ".join("---:" for _ in kinds) + " |",
        ]
        for category, counter in self.counts.items():
            cells = " | ".join(str(counter[kind]) for kind in kinds)
            lines.append(f"| {category} | {sum(counter.values())} | {cells} |")
        totals = Counter()
        for counter in self.counts.values():
            totals.update(counter)
        cells = " | ".join(f"**{totals[kind]}**" for kind in kinds)
        lines.append(f"| all | **{self.total}** | {cells} |")
        return "\n".join(lines)


def send(host: str, port: int, raw: bytes, timeout: float = 5) -> int:
    """Write ``raw`` on a new TLS connection; the answer's status, 0 if none."""
    context = tls_context()
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as plain,
            context.wrap_socket(plain, server_hostname=HOST) as connection,
        ):
            # nginx may answer (413) and close before all of it is sent.
            with contextlib.suppress(OSError):
                connection.sendall(raw)
            answer = b""
            while b"\r\n" not in answer:
                chunk = connection.recv(4096)
                if not chunk:
                    break
                answer += chunk
    except (OSError, ssl.SSLError):
        return 0
    match = re.match(rb"HTTP/\d(?:\.\d)? (\d{3})", answer)
    return int(match.group(1)) if match else 0


def request(
    method: str,
    path: str,
    *,
    version: str = "HTTP/1.1",
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
    host: str | None = HOST,
) -> bytes:
    lines = [f"{method} {path} {version}"]
    if host is not None:
        lines.append(f"Host: {host}")
    for name, value in headers or []:
        lines.append(f"{name}: {value}")
    if body and not any(
        name.lower() in ("content-length", "transfer-encoding")
        for name, _ in headers or []
    ):
        lines.append(f"Content-Length: {len(body)}")
    lines.append("Connection: close")
    return "\r\n".join(lines).encode("utf-8", "surrogateescape") + b"\r\n\r\n" + body


def form_post(
    path: str, fields: str | bytes, form: Form | None, **extra: object
) -> bytes:
    """A POST of url-encoded ``fields``, with the voter's CSRF token and cookie."""
    body = fields.encode() if isinstance(fields, str) else fields
    headers = [("Content-Type", "application/x-www-form-urlencoded")]
    if form is not None:
        body = f"csrfmiddlewaretoken={form.token}&".encode() + body
        headers += [("Cookie", form.cookie), ("Referer", f"https://{HOST}/polls/1/")]
    headers += extra.pop("headers", [])  # type: ignore[arg-type]
    return request("POST", path, headers=headers, body=body, **extra)  # type: ignore[arg-type]


def cases(forms: dict[int, Form]) -> Iterator[tuple[str, bytes]]:
    """(category, raw request) for every hostile request, both questions.

    A vote names a choice of the other question (foreign) or no valid choice
    at all: none may be counted."""
    for question, other in ((1, 2), (2, 1)):
        vote = f"/polls/{question}/vote/"
        form = forms[question]
        foreign_choice = forms[other].choices[0]
        pages = ["/polls/", f"/polls/{question}/", vote, "/admin/login/", "/healthz"]
        for version in ("HTTP/1.1", "HTTP/1.0"):
            for method in (
                "PUT",
                "DELETE",
                "PATCH",
                "OPTIONS",
                "TRACE",
                "CONNECT",
                "PROPFIND",
                "G ET",
                "GET\x00",
                "X" * 100,
                "get",
            ):
                for path in pages:
                    yield "methods", request(method, path, version=version)
            for path in (
                "/../../etc/passwd",
                "/polls/%2e%2e/%2e%2e/etc/passwd",
                "/polls/%00/",
                "/polls/99999999999999999999/",
                "/polls/-1/",
                "/polls/abc/",
                f"/polls/{question}/results/?x=%%%",
                "/" + "a" * 9000,
                "/static/../polls/settings.py",
                "/static/%2e%2e/polls/settings.py",
                "/admin/../../",
                f"{vote}?choice=1",
                "//polls//1//",
                "/polls/\udcff/",
                "/.env",
                "/.git/config",
                "/wp-login.php",
                f"/polls/{question}/vote",
                "/%",
                "/polls/%u0041/",
                "*",
                "http://evil.example/polls/",
            ):
                yield "paths", request("GET", path, version=version)
                yield "paths", request("POST", path, version=version)
            for host in (
                "evil.example",
                "",
                "localhost:99999",
                "localhost:abc",
                "[::1]",
                "localhost\x00",
                "a" * 300,
                "localhost, evil.example",
                "LOCALHOST",
                "localhost.",
                "local host",
            ):
                yield "Host headers", request(
                    "GET", "/polls/", version=version, host=host
                )
                yield "Host headers", form_post(
                    vote, "choice=x", form, version=version, host=host
                )
        yield "Host headers", request("GET", "/polls/", host=None)
        yield "Host headers", request(
            "GET", "/polls/", headers=[("Host", "evil.example")]
        )
        for size in (4096, 8192, 16384, 65536):
            yield "huge headers", request(
                "GET", "/polls/", headers=[("X-Padding", "x" * size)]
            )
        for count in (50, 100, 200, 1000):
            yield "huge headers", request(
                "GET", "/polls/", headers=[(f"X-H{n}", "v") for n in range(count)]
            )
        yield "huge headers", request(
            "GET", "/polls/", headers=[("Cookie", "a=" + "b" * 10000)]
        )
        for size in (65 * 1024, 1024 * 1024):
            yield "huge bodies", form_post(vote, "choice=1&pad=" + "x" * size, form)
        yield "huge bodies", request(
            "POST", vote, headers=[("Content-Length", str(10**9))], body=b"choice=1"
        )
        yield "huge bodies", request(
            "POST",
            vote,
            headers=[("Transfer-Encoding", "chunked")],
            body=b"100000\r\n" + b"x" * 65536,
        )
        yield "huge bodies", request(
            "POST", vote, headers=[("Content-Length", "-1")], body=b"x"
        )
        yield "huge bodies", request(
            "POST", vote, headers=[("Content-Length", "abc")], body=b"x"
        )
        yield "huge bodies", request(
            "POST",
            vote,
            headers=[("Content-Length", "5"), ("Transfer-Encoding", "chunked")],
            body=b"0\r\n\r\n",
        )
        for count in (101, 1000, 5000):
            yield "too many fields", form_post(
                vote, "&".join(f"f{n}=1" for n in range(count)), form
            )
        for choice in (
            "x",
            "",
            "-1",
            "0",
            "1.5",
            "9" * 30,
            "1e3",
            "' OR 1=1 --",
            "<script>alert(1)</script>",
            "%00",
            "%ff",
            "\udcff",
            str(foreign_choice),
            "[]",
            "null",
        ):
            value = (
                urllib.parse.quote(choice, safe="%") if choice != "\udcff" else "%ff%fe"
            )
            yield "choice ids", form_post(vote, f"choice={value}", form)
            yield "choice ids", form_post(vote, f"choice={value}", None)
        yield "choice ids", form_post(vote, "", form)
        yield "choice ids", form_post(
            vote, f"choice={foreign_choice}&choice={foreign_choice}", form
        )
        token_only = Form(form.token, "", form.choices)
        cookie_only = Form("wrong", form.cookie, form.choices)
        for variant in (token_only, cookie_only, Form("", "", [])):
            yield "CSRF", form_post(vote, f"choice={foreign_choice}", variant)
        yield "CSRF", form_post(vote, f"choice={foreign_choice}", None)
        # A valid token and cookie, but the request comes from elsewhere.
        origins = [
            ("Referer", referer)
            for referer in (
                "https://evil.example/",
                "",
                "http://localhost/",
                "not a url",
            )
        ] + [("Origin", "https://evil.example")]
        for origin in origins:
            yield "CSRF", request(
                "POST",
                vote,
                headers=[
                    ("Content-Type", "application/x-www-form-urlencoded"),
                    ("Cookie", form.cookie),
                    origin,
                ],
                body=f"csrfmiddlewaretoken={form.token}&choice={foreign_choice}".encode(),
            )
        for content_type, body in (
            ("application/json", b'{"choice": 1}'),
            ("multipart/form-data; boundary=xyz", b"--xyz\r\ngarbage"),
            ("multipart/form-data", b"choice=1"),
            ("text/plain", b"choice=1"),
            ("application/x-www-form-urlencoded; charset=utf-7", b"choice=+AHg-"),
            ("application/x-www-form-urlencoded", b"choice=\xff\xfe"),
        ):
            yield "content types", request(
                "POST",
                vote,
                headers=[
                    ("Content-Type", content_type),
                    ("Cookie", form.cookie),
                    ("Referer", f"https://{HOST}/polls/1/"),
                ],
                body=f"csrfmiddlewaretoken={form.token}&".encode() + body,
            )
        for fields in (
            "username=admin&password=wrong",
            "username=admin",
            "password=" + "p" * 30000,
            "username=" + "\u00e9" * 200 + "&password=x",
            "username=&password=",
        ):
            yield "admin login", form_post("/admin/login/", fields, form)
        for raw in (
            b"GET / HTTP/9.9\r\nHost: localhost\r\n\r\n",
            b"GET /\r\n\r\n",
            b"\r\n\r\n",
            bytes(range(256)),
            b"GET / HTTP/1.1\nHost: localhost\nX: y\n\n",
            b"GET / HTTP/1.1\r\nHost: localhost\r\nNoColon\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost : localhost\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: localhost\r\nX: a\r\n folded\r\n\r\n",
            b"GET /polls/ HTTP/1.1\r\nHost: localhost\r\n\r\nGARBAGE AFTER\r\n\r\n",
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        ):
            yield "protocol junk", raw


def voter_form(base_url: str, question: int) -> Form:
    """GET a question as a browser would: its CSRF token, cookie, choice ids."""
    with urllib.request.urlopen(  # noqa: S310 - the drills' own https URL
        f"{base_url}/polls/{question}/", context=tls_context(), timeout=10
    ) as response:
        body = response.read().decode()
        cookies = response.headers.get_all("Set-Cookie") or []
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    if not token:
        raise SystemExit(f"drills: /polls/{question}/ has no CSRF token")
    cookie = "; ".join(value.split(";", 1)[0] for value in cookies)
    choices = [
        int(n) for n in re.findall(r'name="choice" id="choice\d+" value="(\d+)"', body)
    ]
    return Form(token.group(1), cookie, choices)


def run(base_url: str) -> tuple[Tally, float]:
    """Send every case to the site at ``base_url``; the tally and seconds."""
    parsed = urllib.parse.urlsplit(base_url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 443
    forms = {question: voter_form(base_url, question) for question in (1, 2)}
    tally = Tally()
    started = time.monotonic()
    for category, raw in cases(forms):
        tally.add(
            category, send(host, port, raw), raw.split(b"\r\n", 1)[0].decode("latin-1")
        )
    return tally, time.monotonic() - started
