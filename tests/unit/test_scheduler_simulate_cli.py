"""``paceline simulate`` outputs for tools: -R, -S, -G (graph XML) and --output-as json."""

from __future__ import annotations

import json

from lxml import etree
from paceline.policy.simulate import run
from paceline.shared.lrm import params_digest

from tests.support.cibs import both_online, cib, lrm_rsc, op, prim


def child_attr(el: etree._Element, path: str, name: str) -> str | None:
    """Attribute ``name`` of the element at ``path`` under ``el``, which must be there."""
    found = el.find(path)
    assert found is not None, path
    return found.get(name)


def write(tmp_path, xml: str):
    path = tmp_path / "cib.xml"
    path.write_text(xml)
    return str(path)


def moving_cib() -> str:
    history = lrm_rsc("r1", op("r1", "start", call=1, digest=params_digest({})))
    probed = lrm_rsc("r1", op("r1", "monitor", rc=7, call=1))
    cons = '<rsc_location id="away" rsc="r1" node="node1" score="-INFINITY"/>'
    return cib(prim("r1", monitor="10s"), both_online(history, probed), cons)


def test_run_prints_the_transition_only_and_simulate_applies_it(tmp_path):
    path = write(tmp_path, moving_cib())
    code, out, _ = run(["-x", path, "-R"])
    assert code == 0 and "Transition Summary:" in out and "Executing Cluster Transition:" not in out
    code, out, _ = run(["-x", path, "-S"])
    assert "Executing Cluster Transition:" in out and "Revised Cluster Status:" in out
    revised = out.split("Revised Cluster Status:")[1]
    assert "Started node2" in revised


def test_save_graph_writes_the_transition_graph(tmp_path):
    path = write(tmp_path, moving_cib())
    graph_file = tmp_path / "graph.xml"
    code, _, err = run(["-x", path, "-R", "-G", str(graph_file)])
    assert code == 0 and err == ""
    root = etree.fromstring(graph_file.read_bytes())
    assert root.tag == "transition_graph"
    ops = {el.get("operation_key"): el for el in root.iter("rsc_op") if el.get("operation_key")}
    assert set(ops) == {"r1_stop_0", "r1_start_0", "r1_monitor_10000"}
    assert ops["r1_stop_0"].get("on_node") == "node1" and ops["r1_start_0"].get("on_node") == "node2"
    synapse = next(s for s in root.iter("synapse")
                   if child_attr(s, "action_set/rsc_op", "operation_key") == "r1_start_0")
    triggers = [t.get("id") for t in synapse.iterfind("inputs/trigger/rsc_op")]
    assert triggers == [ops["r1_stop_0"].get("id")]
    assert child_attr(ops["r1_monitor_10000"], "attributes", "CRM_meta_interval") == "10000"


def test_save_graph_to_unwritable_path_is_one_line(tmp_path):
    path = write(tmp_path, moving_cib())
    code, out, err = run(["-x", path, "-G", str(tmp_path / "missing" / "graph.xml")])
    assert code == 1 and out == "" and err.startswith("paceline simulate: cannot write") and err.count("\n") == 1


def test_json_output_has_summary_actions_and_scores(tmp_path):
    path = write(tmp_path, moving_cib())
    code, out, _ = run(["-x", path, "-R", "--output-as", "json"])
    doc = json.loads(out)
    assert code == 0
    assert [" ".join(line.split()) for line in doc["summary"]] == ["* Move r1 ( node1 -> node2 )"]
    assert [(a["task"], a["node"], a["interval_ms"]) for a in doc["actions"]] == [
        ("stop", "node1", 0), ("start", "node2", 0), ("monitor", "node2", 10000)]
    assert "pcmk__primitive_assign: r1 allocation score on node1: -INFINITY" in doc["scores"]
    assert "revised_status" not in doc
    doc = json.loads(run(["-x", path, "-S", "--output-as", "json"])[1])
    assert any("Started node2" in line for line in doc["revised_status"])


def test_unreadable_file_is_one_line(tmp_path):
    code, out, err = run(["-x", str(tmp_path / "none.xml")])
    assert code == 1 and out == "" and err.startswith("paceline simulate: cannot read") and err.count("\n") == 1


def test_graph_triggers_use_the_tag_of_the_action_they_name(tmp_path):
    group = '<group id="g">' + prim("a") + prim("b") + "</group>"
    path = write(tmp_path, cib(group, both_online()))
    graph_file = tmp_path / "graph.xml"
    assert run(["-x", path, "-G", str(graph_file)])[0] == 0
    root = etree.fromstring(graph_file.read_bytes())
    tag_of = {el.get("id"): el.tag for el in root.iterfind("synapse/action_set/*")}
    assert "pseudo_event" in tag_of.values() and "rsc_op" in tag_of.values()
    triggers = [el for el in root.iterfind("synapse/inputs/trigger/*")]
    assert triggers and all(tag_of[t.get("id")] == t.tag for t in triggers)
    probes = [el for el in root.iter("rsc_op") if el.get("operation_key", "").endswith("_monitor_0")]
    assert probes and all(child_attr(p, "attributes", "CRM_meta_op_target_rc") == "7" for p in probes)


def test_graph_skips_parameters_whose_names_cannot_be_xml_attributes(tmp_path):
    """Real CIBs have parameters named like ``1``; the graph (-G) still gets written, without them."""
    xml = cib(prim("r1").replace("</primitive>", '<instance_attributes id="r1-ia"><nvpair id="r1-1" name="1" '
                                  'value="x"/><nvpair id="r1-ok" name="ok" value="y"/></instance_attributes>'
                                  "</primitive>"), both_online())
    graph = tmp_path / "graph.xml"
    code, _out, err = run(["-x", write(tmp_path, xml), "-G", str(graph)])
    assert code == 0, err
    starts = [el for el in etree.parse(str(graph)).iter("rsc_op") if el.get("operation") == "start"]
    assert starts and child_attr(starts[0], "attributes", "ok") == "y"
