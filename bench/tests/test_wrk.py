"""bench/wrk.py reads what wrk 4.2 prints (the output below is a real run's)."""

import pytest
import wrk

OUTPUT = """\
Running 2s test @ http://127.0.0.1:8000/polls/
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    61.32ms   18.47ms   1.02s    91.20%
    Req/Sec   523.10     40.22   580.00     70.00%
  Latency Distribution
     50%   58.91ms
     75%   64.02ms
     90%   72.11ms
     99%  812.00us
  1046 requests in 2.00s, 3.71MB read
  Socket errors: connect 3, read 7, write 1, timeout 2
  Non-2xx or 3xx responses: 5
Requests/sec:    522.71
Transfer/sec:      1.85MB
"""


@pytest.mark.parametrize(
    ("text", "ms"),
    [("812.00us", 0.812), ("1.20ms", 1.2), ("2.01s", 2010.0), ("1.50m", 90000.0)],
)
def test_durations_in_every_unit(text, ms):
    assert wrk.to_ms(text) == pytest.approx(ms)


def test_a_duration_that_is_not_one_is_an_error():
    with pytest.raises(ValueError, match="not a wrk duration"):
        wrk.to_ms("fast")


def test_figures():
    assert wrk.requests_per_second(OUTPUT) == 522.71
    assert wrk.requests(OUTPUT) == 1046
    assert wrk.percentile_ms(OUTPUT, 50) == pytest.approx(58.91)
    assert wrk.percentile_ms(OUTPUT, 99) == pytest.approx(0.812)
    assert wrk.max_latency_ms(OUTPUT) == pytest.approx(1020.0)


def test_errors():
    assert wrk.socket_errors(OUTPUT) == {
        "connect": 3,
        "read": 7,
        "write": 1,
        "timeout": 2,
    }
    assert wrk.non_2xx(OUTPUT) == 5


def test_a_clean_run_has_no_errors():
    clean = OUTPUT.replace(
        "  Socket errors: connect 3, read 7, write 1, timeout 2\n", ""
    )
    clean = clean.replace("  Non-2xx or 3xx responses: 5\n", "")
    assert wrk.socket_errors(clean) == dict.fromkeys(
        ("connect", "read", "write", "timeout"), 0
    )
    assert wrk.non_2xx(clean) == 0
