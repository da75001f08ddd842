"""``ra validate``: exit codes in OCF words, the meta-data checks, and validate-all run offline on real agents."""

from __future__ import annotations

import pytest
from lxml import etree
from paceline.client.backends import FileBackend
from paceline.crm import CrmError, ra
from paceline.executor import validation
from paceline.executor.standards import AgentRef
from paceline.shared import cib, codec, lrm


def test_rc_names_come_from_the_ocf_constants():
    assert ra.OCF_RC_NAMES[lrm.OCF_ERR_CONFIGURED] == "OCF_ERR_CONFIGURED"
    assert ra.OCF_RC_NAMES[0] == "OCF_SUCCESS" and ra.OCF_RC_NAMES[5] == "OCF_ERR_INSTALLED"
    assert ra.rc_meaning(6) == "OCF_ERR_CONFIGURED (rc 6, not configured)"
    assert ra.rc_meaning(190) == "OCF_DEGRADED (rc 190, OCF_DEGRADED)"
    assert ra.rc_meaning(42) == "rc 42"


def test_describe_an_accepting_agent():
    accepted, said, printed = ra.describe_validation({"node": "n1", "rc": 0, "op_status": 0, "output": "",
                                                      "errors": ""})
    assert accepted and said == "validate-all on n1: OCF_SUCCESS (rc 0, ok)" and printed == []


def test_describe_a_refusal_with_the_agents_own_lines():
    accepted, said, printed = ra.describe_validation({
        "node": "n2", "rc": 6, "op_status": 0, "exit_reason": "parameter ip is required",
        "errors": "ocf-exit-reason:parameter ip is required\nIPaddr: no ip given\n", "output": "checked\n"})
    assert not accepted
    assert said == "validate-all on n2: OCF_ERR_CONFIGURED (rc 6, not configured): parameter ip is required"
    assert printed == ["  IPaddr: no ip given", "  checked"]   # the exit reason is not repeated


@pytest.mark.parametrize(("status", "words"), [(lrm.EXEC_TIMEOUT, "Timed Out, OCF_ERR_GENERIC (rc 1, error)"),
                                               (lrm.EXEC_NOT_INSTALLED, "Not installed, OCF_ERR_GENERIC")])
def test_an_agent_that_did_not_answer_is_a_refusal(status, words):
    accepted, said, _ = ra.describe_validation({"rc": 1, "op_status": status})
    assert not accepted and said.startswith(f"validate-all: {words}")


FENCE_META = etree.fromstring(
    b'<resource-agent name="fence_x"><parameters>'
    b'<parameter name="action" required="1"><content type="string"/></parameter>'
    b'<parameter name="hosts" required="1"><content type="string"/></parameter>'
    b'<parameter name="delay"><content type="integer"/></parameter></parameters></resource-agent>')


def test_meta_data_checks_leave_the_fencers_own_parameters_alone():
    fence = ("stonith", None, "fence_x")
    assert ra.parameter_problems(fence, FENCE_META, {"hosts": "a", "pcmk_host_list": "a"}) == []
    assert ra.parameter_problems(fence, FENCE_META, {"delay": "soon"}) == [
        "required parameter 'hosts' is not set", "parameter 'delay'='soon' is not a valid integer"]
    assert ra.parameter_problems(("ocf", "x", "fence_x"), FENCE_META, {"hosts": "a", "pcmk_x": "1"}) == [
        "parameter 'pcmk_x' is not defined by ocf:x:fence_x", "required parameter 'action' is not set"]


def test_validation_operation_names_the_instance_safely():
    ref = AgentRef("ocf", "paceline", "Dummy")
    op = validation.operation(ref, {"fake": "1"}, "n1")
    assert (op.task, op.rsc, op.node, op.params) == ("validate-all", validation.DEFAULT_INSTANCE, "n1", {"fake": "1"})
    assert validation.operation(ref, {}, "n1", rsc="web-1").rsc == "web-1"
    with pytest.raises(codec.MalformedMessage):
        validation.operation(ref, {}, "n1", rsc="../../etc")


@pytest.fixture
def offline(tmp_path):
    path = tmp_path / "cib.xml"
    path.write_text(cib.serialize(cib.empty(["n1"])))
    return FileBackend(str(path), "n1")


def test_offline_validate_runs_the_bundled_agent(offline):
    with pytest.raises(CrmError) as err:
        offline.run("ra validate ocf:paceline:IPaddr")
    lines = str(err.value).splitlines()
    assert lines[0] == "ra validate: required parameter 'ip' is not set"
    assert "OCF_ERR_CONFIGURED (rc 6, not configured): parameter ip is required" in lines[1]
    assert offline.run("ra validate ocf:paceline:IPaddr ip=127.0.0.9").startswith(
        "ocf:paceline:IPaddr: parameters are valid (validate-all on ")
    with pytest.raises(CrmError, match="is not an IPv4 or IPv6 address"):
        offline.run("ra validate ocf:paceline:IPaddr ip=../x")


def test_offline_validate_of_a_configured_primitive(offline):
    offline.run("configure primitive vip ocf:paceline:IPaddr params ip=127.0.0.9")
    assert "parameters are valid" in offline.run("ra validate vip")
    with pytest.raises(CrmError, match="OCF_ERR_CONFIGURED"):
        offline.run("ra validate vip ip=not/an/address")   # given parameters override the configured ones


def test_offline_validate_of_a_fence_agent(offline):
    assert "parameters are valid" in offline.run("ra validate stonith:fence_paceline hosts=n1 pcmk_host_list=n1")
