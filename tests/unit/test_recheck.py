"""The DC's timer: plan again at the recheck interval, or just after a failure expires."""

from paceline.policy.recheck import EXPIRY_MARGIN, next_recheck
from paceline.shared import cib
from paceline.shared.cluster import unpack

NOW = 1_000_000.0


def cluster(meta: str = "", recheck: str | None = None, last_failure: int | None = None) -> cib.Element:
    props = f'<nvpair id="o2" name="cluster-recheck-interval" value="{recheck}"/>' if recheck else ""
    attrs = ""
    if last_failure is not None:
        attrs = f"""<transient_attributes id="1"><instance_attributes id="status-1">
          <nvpair id="a1" name="fail-count-d1#monitor_10000" value="1"/>
          <nvpair id="a2" name="last-failure-d1#monitor_10000" value="{last_failure}"/>
        </instance_attributes></transient_attributes>"""
    return cib.parse_cib(f"""<cib have-quorum="1"><configuration>
      <crm_config><cluster_property_set id="o"><nvpair id="o1" name="stonith-enabled" value="false"/>{props}
      </cluster_property_set></crm_config>
      <nodes><node id="1" uname="a"/></nodes>
      <resources><primitive id="d1" class="ocf" provider="heartbeat" type="Dummy">
        <meta_attributes id="d1-meta">{meta}</meta_attributes></primitive></resources>
      <constraints/></configuration>
      <status><node_state id="1" uname="a" in_ccm="true" crmd="online" join="member" expected="member">{attrs}
      </node_state></status></cib>""")


def test_default_recheck_interval_is_fifteen_minutes():
    assert next_recheck(unpack(cluster(), NOW), NOW) == 15 * 60


def test_configured_interval_is_used():
    assert next_recheck(unpack(cluster(recheck="2min"), NOW), NOW) == 120


def test_an_expiring_failure_brings_the_plan_forward():
    root = cluster('<nvpair id="ft" name="failure-timeout" value="30s"/>', last_failure=int(NOW) - 10)
    assert next_recheck(unpack(root, NOW), NOW) == 20 + EXPIRY_MARGIN


def test_failures_without_timeout_or_already_expired_do_not():
    never = cluster(last_failure=int(NOW) - 10)
    assert next_recheck(unpack(never, NOW), NOW) == 15 * 60
    expired = cluster('<nvpair id="ft" name="failure-timeout" value="5s"/>', last_failure=int(NOW) - 60)
    assert next_recheck(unpack(expired, NOW), NOW) == 15 * 60
