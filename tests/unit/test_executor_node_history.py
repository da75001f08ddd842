"""The history the executor holds: the CIB's own format, a sequence number per change, others' deletions."""

from __future__ import annotations

from typing import Any

from paceline.executor.history import NodeHistory, foreign_deletions
from paceline.shared import cib, lrm

DUMMY = {"class": "ocf", "provider": "paceline", "type": "Dummy"}


def test_changes_show_in_the_lrm_element_and_count():
    history = NodeHistory("n1")
    empty = history.snapshot()
    assert (empty.node, empty.seq) == ("n1", 0) and cib.parse(empty.lrm).tag == "lrm" and len(cib.parse(empty.lrm)) == 0
    result = lrm.OpResult(rsc="d1", task="start", interval_ms=0, rc=0, node="n1", call_id=1)
    history.apply(lrm.result_ops(result, DUMMY))
    history.apply([])                                       # no change, no new number
    held = history.snapshot()
    assert held.seq == 1 and held.incarnation == empty.incarnation
    assert cib.parse(held.lrm).find("lrm_resources/lrm_resource[@id='d1']/lrm_rsc_op[@id='d1_last_0']") is not None
    history.apply([{"op": "lrm_clear"}])
    assert history.seq == 2 and len(cib.parse(history.lrm_xml())) == 0
    assert NodeHistory("n1").incarnation != history.incarnation


def test_only_deletions_by_others_are_followed():
    ops: list[dict[str, Any]] = [{"op": "lrm_delete", "rsc": "a"}, {"op": "attr", "name": "x", "value": "1"},
           {"op": "lrm_op_delete", "rsc": "a", "id": "a_monitor_10"}, {"op": "lrm_clear"},
           {"op": "lrm_op", "rsc": "b", "record": {"id": "b_last_0"}}]
    assert [op["op"] for op in foreign_deletions(ops)] == ["lrm_delete", "lrm_op_delete", "lrm_clear"]
