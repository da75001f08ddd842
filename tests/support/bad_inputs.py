"""The bad crm inputs of issue 12: values Pacemaker would not accept, each of which must be refused with one
clear line and nothing written. The unit tests apply them to a CIB in memory
(tests/unit/test_crm_bad_values.py), the end-to-end tests send them to a lab (tests/e2e/test_bad_input.py).
"""

from __future__ import annotations

#: What the bad lines need to exist first (constraints name these).
BASE = ["configure primitive a ocf:paceline:Dummy", "configure primitive b ocf:paceline:Dummy"]
P = "configure primitive x ocf:paceline:Dummy"
BAD = [
    # the commands the issue lists
    f"{P} op monitor interval=abc",
    f"{P} op monitor interval=-5s",
    f"{P} op monitor interval={'9' * 5000}",
    f"{P} op monitor timeout=1e999",
    f"{P} meta target-role=Bogus",
    "configure property no-quorum-policy=bogus",
    "configure property stonith-timeout=abc",
    "configure rsc_defaults resource-stickiness=abc",
    f"{P} meta promoted-max=abc",
    "configure order o2 Mandatory: a a",
    "configure colocation c1 inf: a a",
    f"{P} meta resource-stickiness=lots",
    f"{P} meta migration-threshold=x",
    f"{P} meta is-managed=perhaps",
    f"{P} meta failure-timeout=soon",
    # their kind
    f"{P} op monitor interval=10q",
    f"{P} op monitor interval=1.5s",
    f"{P} op monitor interval=10s timeout=-1",
    f"{P} op monitor interval=10s timeout=99999999999999",
    f"{P} op monitor interval=10s start-delay=later",
    f"{P} op monitor interval=10s on-fail=explode",
    f"{P} op monitor interval=10s role=Boss",
    f"{P} op monitor interval=10s enabled=maybe",
    f"{P} op start interval=0 timeout=P",
    f"{P} op stop timeout=PT",
    f"{P} meta target-role=running",
    f"{P} meta multiple-active=both",
    f"{P} meta requires=everything",
    f"{P} meta priority=high",
    f"{P} meta clone-max=-1",
    f"{P} meta clone-node-max=two",
    f"{P} meta promoted-node-max=1.5",
    f"{P} meta notify=sometimes",
    f"{P} meta globally-unique=2",
    f"{P} meta interleave=yess",
    f"{P} meta critical=no-way",
    f"{P} meta allow-migrate=later",
    "configure property stonith-enabled=perhaps",
    "configure property symmetric-cluster=nope",
    "configure property cluster-recheck-interval=often",
    "configure property batch-limit=many",
    "configure property migration-limit=1.5.2",
    "configure property placement-strategy=random",
    "configure property node-health-strategy=healthy",
    "configure property stonith-action=poweroff",
    "configure property load-threshold=high",
    "configure property maintenance-mode=2",
    "configure property shutdown-escalation=-5min",
    "configure rsc_defaults migration-threshold=never",
    "configure rsc_defaults target-role=Up",
    "configure op_defaults timeout=forever",
    "configure op_defaults on-fail=panic",
    "configure location l1 a banana: primary",
    "configure colocation c2 inf: a:Boss b",
]
