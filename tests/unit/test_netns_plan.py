"""The netns lab's plan: names, addresses and the ip command lines, all without root."""

import ipaddress

import pytest
from paceline.lab import command as labcli
from paceline.lab import netns
from paceline.lab.netns import NetnsError, NetnsPlan


def plan(*nodes: str, cluster: str = "lab") -> NetnsPlan:
    return NetnsPlan(cluster, tuple(nodes or ("primary", "secondary")))


def test_names_are_prefixed_with_the_cluster_so_two_labs_do_not_clash():
    a, b = plan(cluster="lab"), plan(cluster="other")
    assert a.hub == "lab-hub" and a.namespace("primary") == "lab-primary"
    assert a.namespaces() == ["lab-hub", "lab-primary", "lab-secondary"]
    assert not set(a.namespaces()) & set(b.namespaces())
    assert a.hub_port("primary") == "veth1" and a.hub_port("secondary") == "veth2"
    assert all(len(a.hub_port(n)) < 16 for n in a.nodes)  # IFNAMSIZ


def test_addresses_are_distinct_and_inside_the_lab_range():
    p = plan("a", "b", "c")
    net = ipaddress.IPv4Network(p.subnet)
    used = [p.hub_address] + [p.address(n) for n in p.nodes] + [p.floating(i) for i in range(3)]
    assert len(set(used)) == len(used)
    assert all(ipaddress.IPv4Address(a) in net for a in used)
    assert (p.hub_address, p.address("a"), p.address("c"), p.floating()) == \
        ("10.213.0.1", "10.213.0.11", "10.213.0.13", "10.213.0.100")
    assert p.cidr(p.address("b")) == "10.213.0.12/24"
    with pytest.raises(NetnsError):
        p.floating(200)


def test_too_many_nodes_or_a_node_called_hub_are_refused():
    with pytest.raises(NetnsError, match="hub"):
        plan("hub", "b")
    with pytest.raises(NetnsError, match="room for"):
        plan(*[f"n{i}" for i in range(90)])
    assert len(plan(*[f"n{i}" for i in range(89)]).nodes) == 89


def test_every_command_acts_inside_a_lab_namespace():
    """Nothing may be configured in the root namespace: every ip command names one of the lab's namespaces."""
    p = plan()
    commands = p.hub_setup() + p.hub_teardown()
    for n in p.nodes:
        commands += p.node_setup(n) + p.node_teardown(n)
    for cmd in commands:
        assert cmd[0] == "ip"
        if cmd[1] == "netns":
            assert cmd[2] in ("add", "del") and cmd[3] in p.namespaces()
        else:
            assert cmd[1] == "-n" and cmd[2] in p.namespaces(), cmd
    assert not any(c for c in commands if "route" in c)


def test_node_setup_builds_a_veth_from_the_hub_into_the_node():
    p = plan()
    cmds = p.node_setup("secondary")
    assert cmds[0] == ["ip", "netns", "add", "lab-secondary"]
    assert ["ip", "-n", "lab-hub", "link", "add", "veth2", "type", "veth", "peer", "name", "lab0",
            "netns", "lab-secondary"] in cmds
    assert ["ip", "-n", "lab-hub", "link", "set", "veth2", "master", "br0"] in cmds
    assert ["ip", "-n", "lab-secondary", "addr", "add", "10.213.0.12/24", "dev", "lab0"] in cmds
    # the link is up only after its address is there
    assert cmds.index(["ip", "-n", "lab-secondary", "link", "set", "lab0", "up"]) > \
        cmds.index(["ip", "-n", "lab-secondary", "addr", "add", "10.213.0.12/24", "dev", "lab0"])
    # removing the hub end takes the node's end, and with it all its addresses, away at once
    assert p.node_teardown("secondary")[0] == ["ip", "-n", "lab-hub", "link", "del", "veth2"]


def test_hub_setup_puts_the_bridge_address_in_the_hub():
    cmds = plan().hub_setup()
    assert cmds[0] == ["ip", "netns", "add", "lab-hub"]
    # a fixed MAC: the bridge must not take a port's MAC, which changes when a killed node's veth goes away
    assert ["ip", "-n", "lab-hub", "link", "add", "br0", "address", "02:00:0a:d5:00:01", "type", "bridge"] in cmds
    assert ["ip", "-n", "lab-hub", "addr", "add", "10.213.0.1/24", "dev", "br0"] in cmds


def test_plan_round_trips_through_lab_json():
    p = plan("x", "y", cluster="c1")
    assert NetnsPlan.from_json(p.to_json()) == p
    assert "lab0 10.213.0.11/24" in "\n".join(p.describe())


def test_exec_argv_runs_the_command_itself_in_the_namespace():
    assert netns.exec_argv("lab-a", ["nats-server", "-p", "1"]) == \
        ["ip", "netns", "exec", "lab-a", "nats-server", "-p", "1"]


def test_up_netns_without_root_is_one_clear_line(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(netns.os, "geteuid", lambda: 1000)
    assert labcli.run_lab(["up", "--netns", "--dir", str(tmp_path)], None) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("ERROR: ") and "needs root" in err and "\n" not in err
    assert not (tmp_path / "lab.json").exists()
