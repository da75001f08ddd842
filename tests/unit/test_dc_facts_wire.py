"""The DC's facts on the wire: what a reader lays over its CIB copy is what the DC laid over its own."""

from __future__ import annotations

from paceline.shared import cib
from paceline.shared.cluster import fencing
from paceline.shared.cluster.overlay import Known, lay_over
from paceline.shared.dc_facts import facts_of, known_of
from paceline.shared.messages import DcFacts

from tests.support import cibs


def a_cib() -> cib.Element:
    lost = (f'<node_state id="n2" uname="n2" {cibs.ONLINE}><lrm id="n2"><lrm_resources>{cibs.running("web")}'
            '</lrm_resources></lrm></node_state>')
    return cib.parse_cib(cibs.cib(cibs.prim("web"), cibs.node_state("n1", lrm=cibs.running("web")) + lost +
                                  cibs.node_state("n3"), nodes=("n1", "n2", "n3")))


def test_the_facts_travel_whole_and_lay_over_as_the_dcs_own():
    known = Known(members=frozenset({"n1"}), gone=frozenset({"n2", "n3"}), unclean=frozenset({"n3"}),
                  fenced={"n2": fencing.victim_status_ops("reboot", 0)})
    wire = DcFacts.from_body(facts_of(known, "n1").to_body())
    assert (wire.dc, wire.members, wire.gone, wire.unclean) == ("n1", ("n1",), ("n2", "n3"), ("n3",))
    dcs, readers = a_cib(), a_cib()
    lay_over(dcs, known)
    lay_over(readers, known_of(wire))
    assert cib.serialize(readers) == cib.serialize(dcs)
    n2 = cib.node_state(readers, "n2")
    assert n2.get("expected") == "down" and n2.find("lrm/lrm_resources/lrm_resource") is None  # fenced: clean
    assert cib.node_state(readers, "n3").get("expected") == "member"  # lost, not fenced: unclean


def test_the_executors_histories_are_not_sent():
    history = cib.parse_cib(cibs.cib("", cibs.node_state("n1", lrm=cibs.running("web")))).find(
        "status/node_state/lrm")
    assert history is not None
    facts = facts_of(Known(members=frozenset({"n1"}), histories={"n1": history}), "n1")
    assert "lrm" not in str(facts.to_body())
