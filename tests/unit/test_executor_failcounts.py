"""Which failures count, and how much: the controller's rules applied to lrm.result_ops."""

from __future__ import annotations

from paceline.executor.failcounts import status_ops
from paceline.shared import lrm

AGENT = {"class": "ocf", "provider": "paceline", "type": "Dummy"}


def _result(task: str, interval_ms: int = 0, rc: int = 1, expected_rc: int = 0,
            op_status: int = lrm.EXEC_DONE) -> lrm.OpResult:
    return lrm.OpResult(rsc="r", task=task, interval_ms=interval_ms, rc=rc, expected_rc=expected_rc,
                        op_status=op_status, call_id=3, transition_key=f"1:2:{expected_rc}:paceline", node="n")


def _attrs(ops):
    return {(o["op"], o["name"], o.get("value")) for o in ops if o["op"].startswith("attr")}


def _records(ops):
    return [o["record"]["id"] for o in ops if o["op"] == "lrm_op"]


def test_success_only_records_the_operation():
    ops = status_ops(_result("start", rc=0), AGENT)
    assert _records(ops) == ["r_last_0"] and not _attrs(ops)


def test_recurring_monitor_failure_increments():
    ops = status_ops(_result("monitor", 10000, rc=7), AGENT)
    assert _records(ops) == ["r_monitor_10000", "r_last_failure_0"]
    names = {(kind, name) for kind, name, _ in _attrs(ops)}
    assert names == {("attr_incr", "fail-count-r#monitor_10000"), ("attr", "last-failure-r#monitor_10000")}


def test_failed_start_is_fatal_by_default_and_counts_otherwise():
    fatal = _attrs(status_ops(_result("start"), AGENT))
    assert ("attr", "fail-count-r#start_0", "INFINITY") in fatal
    soft = _attrs(status_ops(_result("start"), AGENT, start_failure_is_fatal=False))
    assert ("attr_incr", "fail-count-r#start_0", None) in soft


def test_failed_or_timed_out_stop_is_infinity():
    ops = status_ops(_result("stop", op_status=lrm.EXEC_TIMEOUT), AGENT, start_failure_is_fatal=False)
    assert ("attr", "fail-count-r#stop_0", "INFINITY") in _attrs(ops)


def test_probe_surprise_is_history_not_a_counted_failure():
    ops = status_ops(_result("monitor", 0, rc=0, expected_rc=7), AGENT)
    assert _records(ops) == ["r_last_0", "r_last_failure_0"]
    assert not _attrs(ops)


def test_on_fail_ignore_keeps_only_the_time():
    ops = status_ops(_result("monitor", 5000, rc=1), AGENT, meta={"on-fail": "ignore"})
    assert {name for _, name, _ in _attrs(ops)} == {"last-failure-r#monitor_5000"}
