"""The role table: derived from the subjects, documented as derived, and as narrow as the claims say."""

from __future__ import annotations

from pathlib import Path

from paceline.shared.permissions import ADMIN, OBSERVER, permissions, table
from paceline.shared.subjects import Subjects

S = Subjects("c")
DOC = Path(__file__).resolve().parents[2] / "docs" / "bus-security.md"


def test_the_documented_table_is_the_one_the_servers_enforce():
    text = DOC.read_text()
    for row in table():
        assert "| " + " | ".join(row) + " |" in text, f"docs/bus-security.md is out of date for role {row[0]}"


def test_only_policy_sends_actions_and_nobody_speaks_for_another_node():
    for role in ("membership", "executor", "cib-store", "gateway", ADMIN, OBSERVER):
        perm = permissions(S, role, "" if role in (ADMIN, OBSERVER) else "n1")
        assert not any(p.startswith("paceline.c.executor.action") for p in perm.publish), role
        assert "paceline.c.policy.dc" not in perm.publish and "paceline.c.policy.fenced" not in perm.publish, role
    assert S.executor_action("*") in permissions(S, "policy", "n1").publish
    membership = permissions(S, "membership", "n1").publish
    assert S.heartbeat("n1") in membership and S.heartbeat("n2") not in membership
    assert not any("*" in p or ">" in p for p in membership if p != "$SRV.>")
    assert permissions(S, "executor", "n1").publish[1] == S.executor_event("n1")


def test_the_observer_publishes_only_status_questions():
    perm = permissions(S, OBSERVER)
    assert set(perm.publish) == {"$SRV.>", S.gateway("status"), S.policy_status("*"), S.membership_query("*")}
    assert not perm.responds
