"""The floors of the benchmark: the smallest ASGI and WSGI apps there are."""

BODY = b"hello\n"
HEADERS = [(b"content-type", b"text/plain"), (b"content-length", b"6")]


async def asgi(scope: dict, receive, send) -> None:
    """Answer every HTTP request with 200 and six bytes."""
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})


def wsgi(environ: dict, start_response) -> list[bytes]:
    """Answer every request with 200 and six bytes."""
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "6")])
    return [BODY]
