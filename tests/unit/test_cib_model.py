import pytest
from paceline.shared import cib, lrm
from paceline.shared.cluster.options import cluster_options
from paceline.shared.cluster.values import is_true

from tests.support.present import present


def sample() -> cib.Element:
    return cib.parse_cib("""<cib epoch="4" num_updates="2" admin_epoch="1"><configuration>
      <crm_config><cluster_property_set id="cib-bootstrap-options">
        <nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
      <nodes><node id="1" uname="a"/><node id="2" uname="b"/></nodes>
      <resources><group id="g"><primitive id="r1" class="ocf" provider="heartbeat" type="Dummy"/>
        <primitive id="r2" class="lsb" type="nginx"/></group></resources>
      <constraints><rsc_location id="l1" rsc="g" node="a" score="10"/></constraints>
    </configuration><status/></cib>""")


def test_versions_and_sections():
    root = sample()
    assert cib.version(root) == cib.Version(1, 4, 2) and str(cib.version(root)) == "1.4.2"
    assert cib.Version.parse("0.3.9") < cib.Version(1, 0, 0)
    with pytest.raises(cib.CibError):
        cib.Version.parse("1.2")
    assert cib.section(root, "rsc_defaults").tag == "rsc_defaults"
    assert cib.node_names(root) == ["a", "b"]
    assert [p.get("id") for p in cib.primitives(root)] == ["r1", "r2"]
    assert cib.agent_spec(present(cib.find_resource(root, "r1"))) == "ocf:heartbeat:Dummy"
    assert cib.agent_spec(present(cib.find_resource(root, "r2"))) == "lsb:nginx"


def test_option_aliases_fold_old_names_onto_new():
    opts = cluster_options(sample(), now=0.0)
    assert opts["fencing-enabled"] == "false" and opts["stonith-enabled"] == "false"
    assert is_true(opts["fencing-enabled"], True) is False
    assert is_true("yes") and not is_true("off", True) and is_true("junk", True)


def test_validation_finds_duplicates_and_dangling_references():
    root = sample()
    assert cib.validate(root) == []
    cib.section(root, "constraints").append(cib.parse('<rsc_order id="o" first="r1" then="ghost"/>'))
    cib.section(root, "resources").append(cib.parse('<primitive id="r1" class="ocf" type="X"/>'))
    problems = cib.validate(root)
    assert "constraint 'o' references unknown resource 'ghost'" in problems
    assert any(p.startswith("duplicate id 'r1'") for p in problems)
    with pytest.raises(cib.CibError):
        cib.check(root)


def test_malformed_xml_is_a_cib_error():
    with pytest.raises(cib.CibError, match="malformed XML"):
        cib.parse("<cib><configuration>")
    with pytest.raises(cib.CibError, match="expected a <cib>"):
        cib.parse_cib("<nodes/>")


def test_set_nvpair_uses_crmsh_ids_and_removes():
    root = sample()
    prim = present(cib.find_resource(root, "r1"))
    cib.set_nvpair(prim, "meta_attributes", "r1-meta_attributes", "target-role", "Stopped")
    nv = present(prim.find("meta_attributes/nvpair"))
    assert nv.get("id") == "r1-meta_attributes-target-role" and nv.get("value") == "Stopped"
    assert cib.nvset_values(prim) == {"target-role": "Stopped"}
    cib.set_nvpair(prim, "meta_attributes", "r1-meta_attributes", "target-role", None)
    assert cib.nvset_values(prim) == {}


def test_status_patch_records_results_and_fail_counts():
    root = sample()
    ns = cib.node_state(root, "a")
    assert ns.get("id") == "1"
    ok = lrm.OpResult("r1", "start", 0, rc=0, call_id=3, node="a", transition_key="1:2:0:x")
    bad = lrm.OpResult("r1", "monitor", 2000, rc=7, call_id=4, node="a")
    lrm.apply_status_ops(ns, [{"op": "node_state", "attrs": {"crmd": "online", "join": None}}])
    lrm.apply_status_ops(ns, lrm.result_ops(ok, {"class": "ocf", "provider": "heartbeat", "type": "Dummy"}))
    lrm.apply_status_ops(ns, lrm.result_ops(bad, {"class": "ocf", "provider": "heartbeat", "type": "Dummy"}))
    lrm.apply_status_ops(ns, lrm.result_ops(bad, {"class": "ocf", "provider": "heartbeat", "type": "Dummy"}))
    ids = [op.get("id") for op in ns.iterfind("lrm/lrm_resources/lrm_resource/lrm_rsc_op")]
    assert ids == ["r1_last_0", "r1_monitor_2000", "r1_last_failure_0"]
    last = present(ns.find("lrm/lrm_resources/lrm_resource/lrm_rsc_op"))
    assert last.get("transition-magic") == "0:0;1:2:0:x" and last.get("operation_key") == "r1_start_0"
    attrs = {nv.get("name"): nv.get("value") for nv in ns.iter("nvpair")}
    assert attrs["fail-count-r1#monitor_2000"] == "2" and "last-failure-r1#monitor_2000" in attrs
    with pytest.raises(lrm.PatchError):
        lrm.apply_status_ops(ns, [{"op": "nonsense"}])


def test_a_stale_record_landing_late_does_not_replace_a_newer_one():
    """A status patch retried after a lost answer may be applied after the patches that followed it: the
    start must not come back over the stop that replaced it (the CIB showed a stopped resource running)."""
    ns = cib.node_state(sample(), "a")
    agent = {"class": "ocf", "provider": "heartbeat", "type": "Dummy"}
    start = lrm.result_ops(lrm.OpResult("r1", "start", 0, rc=0, call_id=5, node="a"), agent)
    stop = lrm.result_ops(lrm.OpResult("r1", "stop", 0, rc=0, call_id=6, node="a"), agent)
    lrm.apply_status_ops(ns, stop)
    lrm.apply_status_ops(ns, start)
    last = ns.find("lrm/lrm_resources/lrm_resource/lrm_rsc_op")
    assert last is not None and (last.get("operation"), last.get("call-id")) == ("stop", "6")


def test_status_diff_drops_history_and_attributes_only():
    root = sample()
    ns = cib.node_state(root, "a")
    lrm.apply_status_ops(ns, lrm.result_ops(lrm.OpResult("r1", "monitor", 0, rc=1, node="a"), {"class": "ocf"}))
    lrm.apply_status_ops(ns, [{"op": "attr", "name": "keep", "value": "1"}])
    import copy

    after = copy.deepcopy(ns)
    lrm.apply_status_ops(after, [{"op": "lrm_delete", "rsc": "r1"},
                                 {"op": "attr_clear_prefix", "prefixes": ["fail-count-r1#", "last-failure-r1#"]},
                                 {"op": "attr", "name": "new", "value": "x"}])
    ops = lrm.status_diff(ns, after)
    assert {"op": "lrm_delete", "rsc": "r1"} in ops
    assert {"op": "attr", "name": "fail-count-r1#monitor_0", "value": None} in ops
    assert {"op": "attr", "name": "new", "value": "x"} in ops
    assert not any(o.get("name") == "keep" for o in ops)


def test_params_digest_is_order_independent():
    assert lrm.params_digest({"a": "1", "b": "2"}) == lrm.params_digest({"b": "2", "a": "1"})
    assert lrm.params_digest({"a": "1"}) != lrm.params_digest({"a": "2"})
