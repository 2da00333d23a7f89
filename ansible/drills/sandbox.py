"""The sandbox the drills run against: its container, URL and playbooks."""

import re
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import deployment  # bench/deployment.py, see __init__

ROOT = Path(__file__).resolve().parents[2]
CONTAINER = deployment.sandbox_container()
BASE_URL = deployment.sandbox_url()


def tls_context() -> ssl.SSLContext:
    """TLS to the sandbox's nginx, not checking its certificate: the drills
    measure behaviour, the Molecule verify checks the certificate chain."""
    return ssl._create_unverified_context()  # noqa: S323 - see the docstring


def fetch(url: str) -> tuple[int, str]:
    """Status and body of a GET over TLS; status 0 when no answer came."""
    try:
        with urllib.request.urlopen(  # noqa: S310 - the drills' own https URLs
            url, context=tls_context(), timeout=10
        ) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")
    except OSError as exc:
        return 0, str(exc)


def wait_for_200(path: str, seconds: float) -> int:
    """GET ``path`` every half second until it answers 200 or ``seconds``
    pass; the last status."""
    deadline, status = time.monotonic() + seconds, 0
    while True:
        status = fetch(BASE_URL + path)[0]
        if status == 200 or time.monotonic() >= deadline:
            return status
        time.sleep(0.5)


@dataclass
class Playbook:
    """The outcome of one ansible-playbook run."""

    returncode: int
    output: str

    def failure(self) -> str:
        """The message of the task that failed, or ''."""
        lines = self.output.splitlines()
        for index in reversed(range(len(lines))):
            line = lines[index]
            if line.startswith("fatal:"):
                block = [line]
                for follow in lines[index + 1 : index + 12]:
                    if not follow.startswith(" "):
                        break
                    block.append(follow)
                text = " ".join(part.strip() for part in block)
                return text.split(" msg: ", 1)[-1].strip("'\"")
        return ""


def exec_(*command: str) -> str:
    """Run a command in the sandbox container and return its output."""
    return exec_in(CONTAINER, *command)


def exec_in(container: str, *command: str) -> str:
    """Run a command in a container and return its output."""
    result = subprocess.run(
        ["podman", "exec", container, *command],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(
            f"drills: {' '.join(command)} in {container}: {result.stderr.strip()}"
        )
    return result.stdout


def playbook(
    name: str, *extra: str, log: Path, inventory: str = "inventory/sandbox"
) -> Playbook:
    """Run a playbook against the sandbox inventory, its output to ``log``."""
    result = subprocess.run(
        ["ansible-playbook", "-i", inventory, name, *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    output = result.stdout + result.stderr
    log.write_text(output)
    return Playbook(outcome(result.returncode, output), output)


def outcome(returncode: int, output: str) -> int:
    """The run's exit code, or 1 if it passed after a rescue: a hidden failure
    (the project's rescues that recover fail the play too, as the release
    switch's does)."""
    if returncode == 0 and re.search(r"\brescued=[1-9]", output):
        print("drills: a rescue ran in a playbook that passed", file=sys.stderr)
        return 1
    return returncode


def build(source: Path, container: str = CONTAINER) -> None:
    """Build a release of ``source`` for a container's Python, as a deploy would.

    Built before the drill's clock starts, so an operation under load measures
    the host's work, not the controller downloading wheels.
    """
    python = exec_in(
        container, "python3", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"
    ).strip()
    subprocess.run(
        [
            sys.executable,
            ROOT / "roles/polls/files/build-release.py",
            source,
            ROOT / ".cache/releases",
            python,
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def live_instance(container: str = CONTAINER) -> str:
    """The instance nginx proxies to: blue or green."""
    target = exec_in(container, "readlink", "/srv/polls/live.sock").strip()
    return Path(target).stem


def live_release(container: str = CONTAINER) -> str:
    """The id of the release the live instance runs."""
    link = f"/srv/polls/{live_instance(container)}"
    return Path(exec_in(container, "readlink", link).strip()).name


def django_shell(code: str, container: str = CONTAINER) -> str:
    """Run Python in the live release's Django shell, as the service runs."""
    return exec_in(
        container, "polls-manage", "shell", "--verbosity", "0", "-c", code
    ).strip()


def vote_count(choice_id: int, container: str = CONTAINER) -> int:
    """Votes of one choice, as the database has them."""
    return int(
        django_shell(
            "from polls.models import Choice; "
            f"print(Choice.objects.get(pk={choice_id}).votes)",
            container,
        )
    )


def data_digest() -> str:
    """Questions, choices and votes in one line, to compare across releases."""
    return django_shell(
        "from polls.models import Question, Choice; "
        "from django.db.models import Sum; "
        "print(Question.objects.count(), Choice.objects.count(), "
        "Choice.objects.aggregate(n=Sum('votes'))['n'])"
    )
