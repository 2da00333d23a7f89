"""Run the release drills against the deployed sandbox (``make drills``)."""

import argparse
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from . import diskfull, refusals, sandbox, storm, variants
from .load import first_choice
from .operation import Load, Site, measure
from .report import Row, failures, table, verdict

QUESTION = 1


def page(path: str = "/polls/") -> tuple[int, str]:
    """Status and body of a page through nginx."""
    return sandbox.fetch(sandbox.BASE_URL + path)


def stylesheet(body: str) -> str:
    """The hashed stylesheet a page links to."""
    match = re.search(r'href="(/static/polls/style\.[0-9a-f]{12}\.css)"', body)
    if not match:
        raise SystemExit("drills: the index links no hashed stylesheet")
    return match.group(1)


class Drill:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.workdir: Path = args.output
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.site = Site(
            sandbox.BASE_URL,
            QUESTION,
            first_choice(sandbox.BASE_URL, QUESTION),
            sandbox.vote_count,
        )
        self.load = Load(args.connections, args.voters, args.settle, args.limit)
        self.rows: list[Row] = []
        self.refusals: list[tuple[str, str]] = []  # (log, what the play said)
        self.problems: list[str] = []  # what the checks beyond the table found

    def measure(
        self, operation: str, action: Callable[[], str], load: Load | None = None
    ) -> Row | None:
        """Run ``action`` under load (operation.measure), and keep its row.

        None, without running it, when ``--only`` leaves the operation out.
        """
        only = [word for word in self.args.only.split(",") if word]
        if only and not any(word in operation for word in only):
            return None
        row = measure(self.site, load or self.load, operation, action)
        self.rows.append(row)
        return row

    def deploy(self, source: Path, log: str, *extra: str) -> sandbox.Playbook:
        return sandbox.playbook(
            "site.yml",
            "-e",
            f"polls_source_dir={source}",
            *extra,
            log=self.workdir / log,
        )

    def run(self) -> int:
        release_a = sandbox.live_release()
        data_a = sandbox.data_digest().split()[:2]
        print(f"drills: release A {release_a} live on {sandbox.live_instance()}")
        print(table([]).split("\n", 1)[0])

        changed = variants.changed(self.workdir)
        broken = variants.broken(self.workdir)
        for source in (changed, broken):
            sandbox.build(source)
        stylesheet_a = stylesheet(page()[1])

        def deploy_changed() -> str:
            result = self.deploy(changed, "deploy-changed.log")
            release, status_body = sandbox.live_release(), page()
            data = sandbox.data_digest().split()[:2]
            if result.returncode != 0:
                return f"FAILED: the deploy failed: {result.failure()}"
            if release == release_a or variants.MARKER not in status_body[1]:
                return f"FAILED: release B not serving ({release})"
            if data != data_a:
                return f"FAILED: data changed: {data_a} -> {data}"
            stylesheet_b = stylesheet(status_body[1])
            for url in (stylesheet_a, stylesheet_b):
                if page(url)[0] != 200:
                    return f"FAILED: {url} does not answer after the switch"
            return (
                f"B {release} live on {sandbox.live_instance()}, data intact, "
                "A's and B's stylesheets answer"
            )

        def systemctl(verb: str) -> Callable[[], str]:
            def action() -> str:
                instance = sandbox.live_instance()
                sandbox.exec_("systemctl", verb, f"polls@{instance}.service")
                return f"{verb}ed polls@{instance}"

            return action

        def kill(what: str) -> Callable[[], str]:
            """SIGKILL to the live master or one of its workers; serving again
            (the master and all its workers back, /healthz answering) within
            5 s of the kill."""

            def processes() -> tuple[str, list[str]]:
                unit = f"polls@{sandbox.live_instance()}.service"
                master = sandbox.exec_(
                    "systemctl", "show", "--property=MainPID", "--value", unit
                ).strip()
                children = sandbox.exec_("sh", "-c", f"pgrep -P {master} || true")
                return master, children.split()

            def action() -> str:
                master, workers = processes()
                victim = master if what == "master" else workers[0]
                started = time.monotonic()
                sandbox.exec_("kill", "-KILL", victim)
                while (elapsed := time.monotonic() - started) < 30:
                    now, children = processes()
                    back = (
                        now not in ("0", "", victim)
                        and victim not in children
                        and len(children) == len(workers)
                        and page("/healthz")[0] == 200
                    )
                    if back:
                        break
                    time.sleep(0.1)
                if elapsed > 5:
                    return (
                        f"FAILED: {what} {victim} killed, serving again only "
                        f"after {elapsed:.1f} s"
                    )
                return (
                    f"{what} {victim} killed (SIGKILL); master and {len(workers)} "
                    f"workers serving again {elapsed:.1f} s later"
                )

            return action

        def rollback() -> str:
            result = sandbox.playbook(
                "ansible/rollback.yml", log=self.workdir / "rollback.log"
            )
            release, (status, body) = sandbox.live_release(), page()
            if result.returncode != 0:
                return f"FAILED: the rollback failed: {result.failure()}"
            if release != release_a or status != 200 or variants.MARKER in body:
                return f"FAILED: release A not serving ({release}, HTTP {status})"
            return f"A {release} live on {sandbox.live_instance()}"

        def refused(source: Path, log: str, *extra: str) -> Callable[[], str]:
            def action() -> str:
                result = self.deploy(source, log, *extra)
                release, (status, _) = sandbox.live_release(), page()
                if result.returncode == 0:
                    return "FAILED: the release was deployed"
                if release != release_a or status != 200:
                    return f"FAILED: A no longer serving ({release}, HTTP {status})"
                self.refusals.append((log, result.failure()))
                return f"refused, A {release} serving"

            return action

        self.measure("deploy a changed release (B, new migration)", deploy_changed)
        for round_ in (1, 2):
            self.measure(f"systemctl restart live ({round_}/2)", systemctl("restart"))
        for round_ in (1, 2):
            self.measure(f"systemctl reload live ({round_}/2)", systemctl("reload"))
        self.measure("rollback to A (ansible/rollback.yml)", rollback)
        self.measure(
            "deploy B, watch through nginx fails",
            refused(
                changed,
                "deploy-watch-fails.log",
                "-e",
                "polls_watch_url=https://127.0.0.1/no-such-page",
            ),
        )
        self.measure(
            "deploy a release that cannot import",
            refused(broken, "deploy-broken.log"),
        )
        # A vote in flight when its worker is killed fails, and may or may not
        # have been counted: no one can retry it safely. GETs only; nginx
        # retries a GET whose worker died once, on another worker.
        gets_only = Load(self.args.connections, 0, self.args.settle, self.args.limit)
        for what in ("worker", "master"):
            self.measure(
                f"kill -9 the gunicorn {what} (GETs only)", kill(what), gets_only
            )
        # A release that imports but fails its index is refused by the next
        # gate of the same switch: the cluster drills roll one (cluster.py).

        report = table(self.rows)
        data_end = sandbox.data_digest()
        print("\n" + report)
        print(f"\nupgrade path: questions, choices before B {data_a}; after {data_end}")
        for log, message in self.refusals:
            print(f"{log}: the play said: {message}")
        status = verdict(self.rows)
        for check in (
            self.storm,
            self.disk_full,
            self.bad_variables,
            self.secrets,
            self.reboot,
        ):
            if not self.args.only or check.__name__.split("_")[0] in self.args.only:
                report += "\n\n" + check()
        (self.workdir / "results.md").write_text(report + "\n")
        # Last, where a log's tail shows it: every failure of the whole run.
        problems = failures(self.rows) + self.problems
        for line in problems:
            print(f"drills: FAILED: {line}")
        print(f"drills: {len(problems)} failed" if problems else "drills: all passed")
        return status or int(bool(self.problems))

    def storm(self) -> str:
        """The bad-input storm: no 5xx, no vote counted, no traceback, healthy."""
        since = sandbox.exec_("date", "+%Y-%m-%d %H:%M:%S").strip()
        votes_before = sandbox.data_digest().split()[2]
        tally, seconds = storm.run(sandbox.BASE_URL)
        votes_after = sandbox.data_digest().split()[2]
        log = sandbox.exec_(
            "journalctl",
            "-u",
            "polls@*",
            "--since",
            since,
            "--no-pager",
            "--output",
            "cat",
        )
        health = page("/healthz")[0]
        report = tally.table()
        print(f"\nbad-input storm: {tally.total} requests in {seconds:.0f} s\n{report}")
        checks = {
            f"at least 500 requests ({tally.total})": tally.total >= 500,
            f"no 5xx ({len(tally.fivexx)}: {tally.fivexx[:5]})": not tally.fivexx,
            f"no vote counted ({votes_before} -> {votes_after})": votes_before
            == votes_after,
            f"no traceback logged ({log.count('Traceback')})": "Traceback" not in log,
            f"/healthz after: {health}": health == 200,
        }
        self.report("storm", checks)
        return f"bad-input storm: {tally.total} requests\n\n{report}"

    def report(self, drill: str, checks: dict[str, bool]) -> None:
        """Print each check of a drill; a failed one is a problem of the run."""
        for check, passed in checks.items():
            print(f"drills: {drill}: {'pass' if passed else 'FAILED'}: {check}")
            if not passed:
                self.problems.append(f"{drill}: {check}")

    def disk_full(self) -> str:
        """The state directory's disk fills, then space returns (diskfull)."""
        drill = diskfull.Drill(self.site.question, self.site.choice, sandbox.vote_count)
        try:
            drill.run()
        except (subprocess.CalledProcessError, SystemExit, OSError, ValueError) as exc:
            detail = getattr(exc, "stderr", "") or ""
            drill.check(f"the drill ran: {type(exc).__name__}: {exc} {detail}", False)
        print("\ndisk full:")
        self.report("disk full", drill.checks)
        return "disk full\n\n" + "\n".join(
            f"- {'pass' if passed else 'FAILED'}: {check}"
            for check, passed in drill.checks.items()
        )

    def reboot(self) -> str:
        """The host restarts: the site comes back by itself, with its data."""
        before = (sandbox.data_digest(), sandbox.live_release())
        started = time.monotonic()
        subprocess.run(
            ["podman", "restart", "--time", "30", sandbox.CONTAINER],
            check=True,
            capture_output=True,
        )
        status = sandbox.wait_for_200("/polls/", 180)
        seconds = time.monotonic() - started
        after = (
            (sandbox.data_digest(), sandbox.live_release())
            if status == 200
            else ("", "")
        )
        line = (
            f"container restarted: the site answered {status} after {seconds:.0f} s; "
            f"questions, choices, votes {before[0]} -> {after[0]}; "
            f"release {before[1]} -> {after[1]}"
        )
        passed = status == 200 and after == before
        print(f"\ndrills: reboot: {'pass' if passed else 'FAILED'}: {line}")
        if not passed:
            self.problems.append(f"reboot: {line}")
        return f"reboot: {line}"

    def secrets(self) -> str:
        """No secret in a ``--check --diff -v`` run, nor in the journal.

        The run is given a new secret key, admin password and database
        password, so every file that holds one would change and show its diff;
        the host's own secret key and admin password are looked for too.
        """
        given = {
            name: f"{name}-{secrets.token_hex(12)}"
            for name in (
                "polls_secret_key",
                "polls_admin_password",
                "polls_db_password",
            )
        }
        extra = [
            arg for name, value in given.items() for arg in ("-e", f"{name}={value}")
        ]
        result = sandbox.playbook(
            "site.yml",
            "--check",
            "--diff",
            "-v",
            *extra,
            log=self.workdir / "secrets-diff.log",
        )
        held = {
            "the host's secret key": sandbox.exec_(
                "cat", "/etc/polls/credentials/secret_key"
            ).strip(),
            "the host's admin password": sandbox.exec_(
                "cat", "/etc/polls/admin_password"
            ).strip(),
        }
        journal = sandbox.exec_("journalctl", "--no-pager", "--output", "cat")
        found = [
            f"{name} in {where}"
            for name, value in {**given, **held}.items()
            for where, text in (
                ("the diff run", result.output),
                ("the journal", journal),
            )
            if value and value in text
        ]
        line = (
            f"--check --diff -v run (rc {result.returncode}, "
            f"{len(result.output.splitlines())} lines) and the journal "
            f"({len(journal.splitlines())} lines) searched for "
            f"{len(given) + len(held)} secrets: "
            + (", ".join(found) if found else "none found")
        )
        passed = result.returncode == 0 and not found and all(held.values())
        print(f"\ndrills: secrets: {'pass' if passed else 'FAILED'}: {line}")
        if not passed:
            self.problems.append(f"secrets: {line}")
        return f"secrets: {line}"

    def bad_variables(self) -> str:
        """Bad role variables fail in validation, every host at changed=0."""
        results = refusals.run(self.workdir)
        report = refusals.table(results)
        print(f"\nbad role variables:\n{report}")
        for result in results:
            if not result.clean:
                self.problems.append(f"bad variables: {result.case}")
        return f"bad role variables\n\n{report}"


def main() -> int:
    parser = argparse.ArgumentParser(prog="drills", description=__doc__)
    parser.add_argument("--output", type=Path, default=sandbox.ROOT / ".cache/drills")
    parser.add_argument("--connections", type=int, default=6, help="wrk connections")
    parser.add_argument("--voters", type=int, default=3, help="voting threads")
    parser.add_argument(
        "--settle", type=float, default=2, help="seconds of load before and after"
    )
    parser.add_argument(
        "--limit", type=int, default=600, help="longest an operation may run (s)"
    )
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated words: run only the operations whose name has one",
    )
    return Drill(parser.parse_args()).run()


if __name__ == "__main__":
    sys.exit(main())
