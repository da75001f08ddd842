"""The DC's timer: plan again at the recheck interval, or just after a failure expires."""

from __future__ import annotations

from paceline.policy.recheck import EXPIRY_MARGIN, next_recheck
from paceline.shared import cib as cibxml
from paceline.shared.cluster import unpack

from tests.support.cibs import NOW, cib, node_state, prim


def cluster(meta: dict[str, str] | None = None, recheck: str | None = None,
            last_failure: int | None = None) -> cibxml.Element:
    """One node running nothing, a Dummy with ``meta``; a monitor failure at ``last_failure`` if given."""
    options = {"cluster-recheck-interval": recheck} if recheck else {}
    attrs = None
    if last_failure is not None:
        attrs = {"fail-count-d1#monitor_10000": "1", "last-failure-d1#monitor_10000": str(last_failure)}
    return cibxml.parse_cib(cib(prim("d1", meta), node_state("a", attrs=attrs), nodes=("a",), options=options))


def test_default_recheck_interval_is_fifteen_minutes():
    assert next_recheck(unpack(cluster(), NOW), NOW) == 15 * 60


def test_configured_interval_is_used():
    assert next_recheck(unpack(cluster(recheck="2min"), NOW), NOW) == 120


def test_an_expiring_failure_brings_the_plan_forward():
    root = cluster({"failure-timeout": "30s"}, last_failure=int(NOW) - 10)
    assert next_recheck(unpack(root, NOW), NOW) == 20 + EXPIRY_MARGIN


def test_failures_without_timeout_or_already_expired_do_not():
    never = cluster(last_failure=int(NOW) - 10)
    assert next_recheck(unpack(never, NOW), NOW) == 15 * 60
    expired = cluster({"failure-timeout": "5s"}, last_failure=int(NOW) - 60)
    assert next_recheck(unpack(expired, NOW), NOW) == 15 * 60
