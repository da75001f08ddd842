"""Prometheus metrics of the membership service (the ha_cluster_corosync_* picture, in our names).

Unlabelled on purpose: one membership process runs per node and the scrape
target already says which node it is.
"""

from __future__ import annotations

from paceline.membership.view import MembershipView
from prometheus_client import Counter, Gauge

MEMBERS = Gauge("paceline_membership_members", "Nodes in this node's current membership view")
QUORATE = Gauge("paceline_membership_quorate", "1 while this node's partition has quorum")
RING_ID = Gauge("paceline_membership_ring_id", "Ring id of the current membership view")
EXPECTED_VOTES = Gauge("paceline_membership_expected_votes", "Votes votequorum expects in the cluster")
TOTAL_VOTES = Gauge("paceline_membership_total_votes", "Votes present in this node's partition")
VIEW_CHANGES = Counter("paceline_membership_view_changes", "Membership views published")
MEMBERS_LOST = Counter("paceline_membership_members_lost", "Peers this node's view dropped (lost, or restarted and "
                       "rejoining): each is the start of a failover when it held resources")
HEARTBEAT_FLOODS = Counter("paceline_membership_heartbeat_floods",
                           "Times a node's heartbeat subject carried a flood and was muted for a while")


def record(view: MembershipView) -> None:
    MEMBERS.set(len(view.members))
    QUORATE.set(1 if view.quorum.quorate else 0)
    RING_ID.set(view.ring_id)
    EXPECTED_VOTES.set(view.quorum.expected_votes)
    TOTAL_VOTES.set(view.quorum.total_votes)
    VIEW_CHANGES.inc()
    MEMBERS_LOST.inc(len(view.lost))
