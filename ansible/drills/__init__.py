"""Release drills: operations on the live sandbox under load, counted.

``make drills`` (``python -m drills`` from ``ansible/``) deploys a changed
release, restarts and reloads the live instance, rolls back and tries a broken
release, each while GETs (wrk) and real votes (with CSRF) run against the
sandbox's nginx on 127.0.0.1, and prints per operation: requests, failures,
votes acknowledged and counted, the worst latency. Any failure or lost vote
fails the drill.

Modules: ``sandbox`` (the container and its playbooks), ``variants`` (the
changed and the broken release's sources), ``load`` (wrk and the voters),
``report`` (the table), ``__main__`` (the operations).
"""

import sys
from pathlib import Path

# The sandbox's facts (bench/deployment.py: its container, its URL, from the
# inventory) and wrk's output (bench/wrk.py) have one reader each, the
# benchmark's; the drills import them from there.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
