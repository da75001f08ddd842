"""The lab's bus plan: a server per node and witness, clustered; the single bus only when asked for."""

from __future__ import annotations

from pathlib import Path

from paceline.lab import buses
from paceline.lab.netns import NetnsPlan
from paceline.lab.netns_bus import NamespacedNatsServer


def _flag(argv: list[str], flag: str) -> str:
    return argv[argv.index(flag) + 1]


def test_a_server_per_node_and_witness_named_after_it() -> None:
    plan = buses.plan(["a", "b"], ["w"], None, single=False)
    assert list(plan) == ["a", "b", "w"]
    assert [s.witness for s in plan.values()] == [False, False, True]
    ports = [p for s in plan.values() for p in (s.port, s.http_port, s.route_port)]
    assert len(set(ports)) == len(ports)
    assert buses.replicas(plan) == 3
    assert buses.client_urls(plan).split(",") == [f"nats://127.0.0.1:{s.port}" for s in plan.values()]
    argv = plan["a"].process("lab", list(plan.values()), Path("/tmp/x")).command()
    assert _flag(argv, "-n") == "a" and "-js" in argv
    assert _flag(argv, "--cluster_name") == "paceline-lab"
    assert sorted(_flag(argv, "--routes").split(",")) == sorted([plan["b"].route_url, plan["w"].route_url])


def test_replicas_are_at_most_three_and_at_least_one() -> None:
    assert buses.replicas(buses.plan(["a"], [], None, single=False)) == 1
    assert buses.replicas(buses.plan(["a", "b"], [], None, single=False)) == 2
    assert buses.replicas(buses.plan(list("abcde"), [], None, single=False)) == 3


def test_single_bus_is_one_unrouted_server_every_node_shares() -> None:
    plan = buses.plan(["a", "b"], [], None, single=True)
    assert list(plan) == [buses.SINGLE]
    assert buses.server_of(plan, "a") is buses.server_of(plan, "b") is plan[buses.SINGLE]
    assert "--routes" not in plan[buses.SINGLE].process("lab", [], Path("/tmp/x")).command()


def test_netns_servers_live_in_their_node_namespaces_and_the_witness_on_the_hub() -> None:
    net = NetnsPlan("lab", ("a", "b"))
    plan = buses.plan(["a", "b"], ["w"], net, single=False)
    assert (plan["a"].namespace, plan["a"].address) == (net.namespace("a"), net.address("a"))
    assert (plan["w"].namespace, plan["w"].address) == (net.hub, net.hub_address)
    assert all(s.client_port for s in plan.values())  # reached from the root namespace through a forwarder
    process = plan["a"].process("lab", list(plan.values()), Path("/tmp/x"))
    assert isinstance(process, NamespacedNatsServer)
    argv = process.command()
    assert argv[:4] == ["ip", "netns", "exec", net.namespace("a")]
    assert plan["b"].route_url == f"nats://{net.address('b')}:{plan['b'].route_port}"
    assert plan["b"].route_url in _flag(argv, "--routes")
