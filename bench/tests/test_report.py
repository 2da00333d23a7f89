"""bench/report.py pairs its ratios within a round."""

import pytest
import report
from catalogue import DEFAULT


def row(round_, server, rps, workload="index", via="direct", errors=0):
    return {
        "round": round_,
        "via": via,
        "server": server,
        "workload": workload,
        "rps": rps,
        "p50_ms": 1.0,
        "p99_ms": 2.0,
        "errors": errors,
    }


def test_a_ratio_is_taken_within_its_round_then_the_median():
    # The machine is twice as fast in round 2; A is 0.8x of B in each round.
    rows = [row(1, "A", 80), row(1, "B", 100), row(2, "A", 160), row(2, "B", 200)]
    rows += [row(3, "A", 40), row(3, "B", 50)]
    summary = {s["server"]: s for s in report.summarise(rows, limits=set())}
    assert summary["A"]["ratio"] == pytest.approx(0.8)
    assert summary["A"]["ratio_min"] == pytest.approx(0.8)
    assert summary["B"]["ratio"] == 1.0
    assert summary["A"]["rps"] == 80  # the median of the raw figures, shown apart


def test_a_run_with_errors_and_the_floors_are_no_yardstick():
    rows = [row(1, "A", 100), row(1, "fails", 400, errors=3), row(1, "floor", 900)]
    summary = {s["server"]: s for s in report.summarise(rows, limits={"floor"})}
    assert summary["A"]["ratio"] == 1.0
    assert summary["fails"]["ratio"] == 4.0


def test_parity_takes_the_fastest_wsgi_configuration_of_each_round():
    rows = [
        row(1, DEFAULT, 90),
        row(1, "W1", 100),
        row(1, "W2", 50),
        row(2, DEFAULT, 95),
        row(2, "W1", 60),
        row(2, "W2", 100),
        row(2, "W3 errors", 500, errors=1),
    ]
    (index,) = [
        g
        for g in report.parity(rows, {"all": {"W1", "W2", "W3 errors"}})
        if g["goal"].workload == "index" and g["goal"].via == "direct"
    ]
    assert index["ratio"] == pytest.approx(0.925)
    assert (index["ratio_min"], index["ratio_max"]) == pytest.approx((0.9, 0.95))
    assert "W1, index (1/2)" in index["fastest"]
    assert index["met"] is True
    assert index["against"] == "all"


def test_the_io_goal_compares_with_the_sync_view_under_wsgi():
    rows = [
        row(1, DEFAULT, 800, workload="io async view"),
        row(1, "W", 300, workload="io sync view"),
        row(1, "W", 100, workload="io async view"),
    ]
    (io,) = [
        g
        for g in report.parity(rows, {"all": {"W"}})
        if g["goal"].workload == "io async view"
    ]
    assert io["ratio"] == pytest.approx(800 / 300)


def test_each_round_starts_elsewhere():
    assert report.rotated([1, 2, 3], 1) == [2, 3, 1]
    assert report.rotated([1, 2, 3], 3) == [1, 2, 3]
    assert report.rotated([], 2) == []
