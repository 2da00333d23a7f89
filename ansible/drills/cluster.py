"""Drills against the Molecule cluster: a load balancer, two web hosts, PostgreSQL.

Run by the cluster scenario's verify (``molecule test -s cluster``) and by
``make drills-cluster``, with POLLS_CLUSTER_INVENTORY naming the inventory
Molecule wrote. Each operation runs under GETs (wrk) and real votes through
the load balancer, like the sandbox drills; any failed request or lost vote
fails the drill:

- 200 votes posted at once through the load balancer, counted exactly;
- one web host's instance stopped (socket and service) then started, GETs
  only; then the same drained first (ansible/drain.yml, undrain.yml), votes
  too;
- one web host's application killed (SIGKILL to every process), GETs only;
- a rolling deploy of a changed release (site.yml, one host at a time),
  with every page's stylesheet fetched throughout (mixed releases), the
  time of each host's batch and of the whole roll;
- a roll of a release whose index fails: refused on the first host, which
  goes back into the rotation, and the roll stops there;
- a rolling rollback (ansible/rollback.yml) to the first release;
- with --no-change (``make drills-cluster``), a converge that must change
  nothing, timed (``molecule test`` checks that in its idempotence step).
"""

import argparse
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from . import sandbox, variants
from .load import burst, first_choice
from .operation import Load, Outcome, Site, measure
from .report import Row, table, verdict

ROOT = sandbox.ROOT
SCENARIO = ROOT / "molecule" / "cluster" / "molecule.yml"
QUESTION = 1
ROLL_PLAY = "Roll the polls release out"
DRAIN_FILE = "/etc/nginx/polls-drained"  # nginx_drain_file's default


def platforms() -> list[dict]:
    return yaml.safe_load(SCENARIO.read_text())["platforms"]


def group(name: str) -> list[str]:
    """The scenario's containers in one inventory group."""
    return [p["name"] for p in platforms() if name in p.get("groups", [])]


def lb_url() -> str:
    """https://ADDRESS:PORT where the load balancer publishes its port 443."""
    (lb,) = [p for p in platforms() if "lb" in p.get("groups", [])]
    for mapping in lb["published_ports"]:
        address, port, inside = str(mapping).rsplit(":", 2)
        if inside == "443":
            return f"https://{address}:{port}"
    raise SystemExit("drills: the load balancer publishes no port 443")


STYLESHEET = re.compile(r'href="(/static/[^"]+\.[0-9a-f]{12}\.css)"')


@dataclass
class PageChecker:
    """Loads the index and the stylesheet it links to, over and over.

    During a rolling deploy the hosts run different releases, and a page
    from one must find its hashed files whichever host the load balancer
    asks for them.
    """

    base: str
    pages: int = 0
    failed: list[str] = field(default_factory=list)
    stylesheets: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stopping.is_set():
            status, body = sandbox.fetch(self.base + "/polls/")
            match = STYLESHEET.search(body)
            if status != 200 or not match:
                self.failed.append(f"index: HTTP {status}")
                continue
            self.stylesheets.add(match.group(1))
            status, _ = sandbox.fetch(self.base + match.group(1))
            self.pages += 1
            if status != 200:
                self.failed.append(f"{match.group(1)}: HTTP {status}")

    def __enter__(self) -> "PageChecker":
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopping.set()
        self.thread.join(timeout=30)


@dataclass
class Roll:
    """A streamed ansible-playbook run: exit code, log, and when each batch ran."""

    returncode: int
    output: str
    batches: list[tuple[str, float]]  # (host, seconds) of the rolling play
    install_seconds: float


def timed_playbook(
    inventory: str, *extra: str, log: Path, playbook: str = "site.yml"
) -> Roll:
    """A playbook (site.yml), its lines timestamped as they come: the rolling
    play's batches start at each of its PLAY headers and end at the next."""
    process = subprocess.Popen(
        ["ansible-playbook", "-i", inventory, playbook, *extra],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={
            **os.environ,
            "ANSIBLE_FORCE_COLOR": "0",
            # Each task's time in the log (roll.log), to see where a roll goes.
            "ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks",
        },
    )
    started = time.monotonic()
    lines: list[str] = []
    marks: list[tuple[float, str]] = []  # (time, PLAY header or host)
    for line in process.stdout or ():
        now = time.monotonic() - started
        lines.append(line)
        if line.startswith("PLAY "):
            marks.append((now, line))
        elif marks and ROLL_PLAY in marks[-1][1] and "@" not in marks[-1][1]:
            host = re.match(r"^(?:ok|changed): \[([^\]\s]+)", line)
            if host:
                marks[-1] = (marks[-1][0], marks[-1][1] + f"@{host.group(1)}")
    returncode = process.wait()
    ended = time.monotonic() - started
    batches, install = [], 0.0
    for index, (at, header) in enumerate(marks):
        until = marks[index + 1][0] if index + 1 < len(marks) else ended
        if ROLL_PLAY in header:
            host = header.rsplit("@", 1)[-1].strip() if "@" in header else "?"
            batches.append((host, until - at))
        elif "Install the polls release" in header:
            install = until - at
    output = "".join(lines)
    log.write_text(output)
    return Roll(sandbox.outcome(returncode, output), output, batches, install)


class ClusterDrill:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.inventory = args.inventory
        self.workdir: Path = args.output
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.base = lb_url()
        # The first web host's Django shell reads the shared PostgreSQL.
        first_web = group("web")[0]
        self.site = Site(
            self.base,
            QUESTION,
            first_choice(self.base, QUESTION),
            lambda choice: sandbox.vote_count(choice, first_web),
        )
        self.load = Load(args.connections, args.voters, args.settle, args.limit)
        self.rows: list[Row] = []
        self.notes: list[str] = []

    def measure(
        self,
        operation: str,
        action: Callable[[], Outcome],
        load: Load | None = None,
    ) -> Row:
        row = measure(self.site, load or self.load, operation, action)
        self.rows.append(row)
        return row

    def run(self) -> int:
        web = group("web")
        print(f"drills: the cluster behind {self.base}: web hosts {', '.join(web)}")
        changed = variants.changed(self.workdir)
        failing = variants.failing(self.workdir)
        for host in web:
            for source in (changed, failing):
                sandbox.build(source, host)
        release_a = {host: sandbox.live_release(host) for host in web}
        print(table([]).split("\n", 1)[0])

        def votes_at_once() -> Outcome:
            result = burst(self.base, QUESTION, self.site.choice, self.args.burst)
            return (
                f"{result.acknowledged} of {self.args.burst} answered 302",
                result,
            )

        self.measure(f"{self.args.burst} votes at once through the lb", votes_at_once)

        target = web[0]

        def units(host: str) -> list[str]:
            instance = sandbox.live_instance(host)
            return [f"polls@{instance}.socket", f"polls@{instance}.service"]

        def stop_instance() -> Outcome:
            stopped = units(target)
            sandbox.exec_in(target, "systemctl", "stop", *stopped)
            time.sleep(self.args.down)
            status, _ = sandbox.fetch(self.base + "/polls/")
            sandbox.exec_in(target, "systemctl", "start", *stopped)
            if status != 200:
                return f"FAILED: the site answered {status} with {target} down"
            return f"{' and '.join(stopped)} stopped {self.args.down:.0f} s, started"

        def playbook(name: str) -> sandbox.Playbook:
            return sandbox.playbook(
                name,
                "-l",
                target,
                inventory=self.inventory,
                log=self.workdir / f"{Path(name).stem}.log",
            )

        def maintenance() -> Outcome:
            if (result := playbook("ansible/drain.yml")).returncode != 0:
                return f"FAILED: ansible/drain.yml: {result.failure()}"
            time.sleep(1)  # what the host was serving finishes
            stopped = units(target)
            sandbox.exec_in(target, "systemctl", "stop", *stopped)
            time.sleep(self.args.down)
            sandbox.exec_in(target, "systemctl", "start", *stopped)
            if (result := playbook("ansible/undrain.yml")).returncode != 0:
                return f"FAILED: ansible/undrain.yml: {result.failure()}"
            seconds = f"{self.args.down:.0f} s"
            return f"drained, {' and '.join(stopped)} stopped {seconds}, put back"

        # Stopped without warning, the instance resets the connections in its
        # socket's queue: GETs are retried on the other host, a vote already
        # sent is not (it may have been counted). GETs only; drained first,
        # votes too.
        gets_only = Load(self.args.connections, 0, self.args.settle, self.args.limit)
        self.measure(f"stop {target}'s instance (GETs only)", stop_instance, gets_only)
        self.measure(f"drain {target}, stop, start, put back", maintenance)

        def kill_app() -> Outcome:
            instance = sandbox.live_instance(target)
            unit = f"polls@{instance}.service"
            sandbox.exec_in(target, "systemctl", "kill", "--signal=KILL", unit)
            time.sleep(self.args.down)
            state = sandbox.exec_in(target, "systemctl", "is-active", unit).strip()
            return f"{target}'s {unit} killed (SIGKILL); {state} again"

        # A vote in flight when its worker is killed fails, and may or may not
        # have been counted: no one can retry it safely. GETs only.
        self.measure(f"kill {target}'s application (GETs only)", kill_app, gets_only)

        def drained() -> list[str]:
            return [
                host
                for host in web
                if sandbox.exec_in(
                    host, "sh", "-c", f"test ! -e {DRAIN_FILE} || echo y"
                )
            ]

        def rolling_deploy() -> Outcome:
            with PageChecker(self.base) as pages:
                result = timed_playbook(
                    self.inventory,
                    "-e",
                    f"polls_source_dir={changed}",
                    log=self.workdir / "roll.log",
                )
            releases = {host: sandbox.live_release(host) for host in web}
            _, body = sandbox.fetch(self.base + "/polls/")
            per_host = ", ".join(f"{h} {s:.0f} s" for h, s in result.batches)
            self.notes.append(
                "rolling deploy: install on every host "
                f"{result.install_seconds:.0f} s; "
                f"per host (drain, switch, check, put back): {per_host}; "
                f"{pages.pages} pages with their stylesheets "
                f"({len(pages.stylesheets)} distinct) loaded during the roll"
            )
            if result.returncode != 0:
                failure = sandbox.Playbook(1, result.output).failure()
                return f"FAILED: the roll failed: {failure}"
            if any(releases[h] == release_a[h] for h in web):
                return f"FAILED: not every host runs B: {releases}"
            if variants.MARKER not in body:
                return "FAILED: the load balancer does not serve B"
            if pages.failed:
                return f"FAILED: pages or stylesheets failed: {pages.failed[:5]}"
            return f"B on {len(web)} hosts; per host {per_host}"

        self.measure("rolling deploy of B (site.yml)", rolling_deploy)
        release_b = {host: sandbox.live_release(host) for host in web}

        def failed_roll() -> Outcome:
            result = timed_playbook(
                self.inventory,
                "-e",
                f"polls_source_dir={failing}",
                log=self.workdir / "roll-failing.log",
                playbook="ansible/web.yml",  # the db and lb have nothing to do
            )
            releases = {host: sandbox.live_release(host) for host in web}
            status, body = sandbox.fetch(self.base + "/polls/")
            reached = [host for host, _ in result.batches]
            if result.returncode == 0:
                return "FAILED: the failing release was rolled out"
            if releases != release_b:
                return f"FAILED: a host left B: {releases}"
            if reached != web[:1]:
                return f"FAILED: the roll reached {reached}, not only {web[0]}"
            if status != 200 or variants.MARKER not in body:
                return f"FAILED: the site answers {status} without B"
            if left_out := drained():
                return f"FAILED: left drained: {left_out}"
            stop = re.search(r"The roll stopped at (\S+):", result.output)
            if not stop:
                return "FAILED: the play does not say where the roll stopped"
            return f"refused on {stop.group(1)}, put back; every host still on B"

        self.measure("roll a release whose index fails (web.yml)", failed_roll)

        def rollback() -> Outcome:
            result = timed_playbook(
                self.inventory,
                log=self.workdir / "rollback.log",
                playbook="ansible/rollback.yml",
            )
            releases = {host: sandbox.live_release(host) for host in web}
            _, body = sandbox.fetch(self.base + "/polls/")
            per_host = ", ".join(f"{h} {s:.0f} s" for h, s in result.batches)
            self.notes.append(f"rolling rollback: per host {per_host}")
            if result.returncode != 0:
                failure = sandbox.Playbook(1, result.output).failure()
                return f"FAILED: the rollback failed: {failure}"
            if releases != release_a:
                return f"FAILED: not every host runs A again: {releases}"
            if variants.MARKER in body:
                return "FAILED: the load balancer still serves B"
            return f"A on {len(web)} hosts; per host {per_host}"

        self.measure("rolling rollback to A (ansible/rollback.yml)", rollback)

        def no_change() -> Outcome:
            # A again, as the rollback left it: its release is on every host.
            result = timed_playbook(self.inventory, log=self.workdir / "no-change.log")
            changed_hosts = re.findall(
                r"^(\S+)\s+: ok=\d+\s+changed=([1-9]\d*)", result.output, re.M
            )
            if result.returncode != 0:
                return f"FAILED: {sandbox.Playbook(1, result.output).failure()}"
            if changed_hosts:
                return f"FAILED: changes on {changed_hosts}"
            return "changed=0 on every host"

        if self.args.no_change:
            self.measure("converge with nothing to change", no_change)

        report = table(self.rows)
        print("\n" + report)
        for note in self.notes:
            print(note)
        (self.workdir / "results.md").write_text(
            report + "\n\n" + "\n".join(self.notes) + "\n"
        )
        return verdict(self.rows)


def main() -> int:
    parser = argparse.ArgumentParser(prog="drills.cluster", description=__doc__)
    parser.add_argument(
        "--inventory",
        default=os.environ.get("POLLS_CLUSTER_INVENTORY", ""),
        help="the cluster's inventory (default: $POLLS_CLUSTER_INVENTORY)",
    )
    parser.add_argument("--output", type=Path, default=ROOT / ".cache/drills-cluster")
    parser.add_argument("--connections", type=int, default=6, help="wrk connections")
    parser.add_argument("--voters", type=int, default=3, help="voting threads")
    parser.add_argument("--burst", type=int, default=200, help="votes posted at once")
    parser.add_argument(
        "--down", type=float, default=5, help="seconds a web host stays down"
    )
    parser.add_argument(
        "--no-change",
        action="store_true",
        help="end with a converge that must change nothing, timed",
    )
    parser.add_argument(
        "--settle", type=float, default=2, help="seconds of load before and after"
    )
    parser.add_argument(
        "--limit", type=int, default=900, help="longest an operation may run (s)"
    )
    args = parser.parse_args()
    if not args.inventory:
        parser.error("name the cluster's inventory (--inventory)")
    return ClusterDrill(args).run()


if __name__ == "__main__":
    sys.exit(main())
