"""Pacemaker's tools for agents: option parsing and output (pure), and the wrappers with no cluster to reach."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from paceline.cli import pcmk_tools as pt
from paceline.cli.pcmk_tools import AttrRequest, Info, ToolError
from paceline.executor.runner import SBIN_DIR, cluster_environment
from paceline.shared import config
from paceline.shared.messages import AttributeReply, AttributeRequest
from paceline.shared.natsserver import free_port

ENV = {"PACELINE_NODE": "n1", "OCF_RESOURCE_INSTANCE": "st:1", "OCF_RESKEY_CRM_meta_on_node": "other"}


def attr(argv: list[str], env: dict[str, str] = ENV) -> AttrRequest:
    req = pt.crm_attribute_request(argv, env)
    assert isinstance(req, AttrRequest)
    return req


def fields(req: AttrRequest) -> tuple:
    return req.command, req.name, req.scope, req.node, req.value


def code_of(call, *args) -> int:
    with pytest.raises(ToolError) as info:
        call(*args)
    return info.value.code


# ------------------------------------------------------------------ option parsing

def test_short_options_cluster_and_take_glued_or_next_values():
    got = pt.parse_options(pt.CRM_ATTRIBUTE, ["-qG", "-nfoo", "-N", "n2", "--lifetime=reboot", "--default", "0"])
    assert got == [("quiet", None), ("query", None), ("name", "foo"), ("node", "n2"), ("lifetime", "reboot"),
                   ("default", "0")]


@pytest.mark.parametrize(("argv", "value"), [
    (["-p"], None), (["-p", "-G"], None), (["-p", "web"], "web"), (["-pweb"], "web"), (["-p=web"], "web"),
    (["--promotion=web"], "web"), (["--promotion", "web"], "web"), (["--promotion", "-v", "5"], None),
])
def test_the_promotion_resource_is_optional(argv, value):
    assert pt.parse_options(pt.CRM_ATTRIBUTE, argv)[0] == ("promotion", value)


@pytest.mark.parametrize(("argv", "message"), [
    (["--bogus"], "unknown option --bogus"), (["-Gx"], "unknown option -x"), (["-n"], "option -n needs a value"),
    (["--name"], "option --name needs a value"), (["--query=1"], "option --query takes no value"),
    (["stray"], "unexpected argument 'stray'"), (["--", "x"], "unexpected argument 'x'"),
])
def test_bad_options_are_usage_errors(argv, message):
    with pytest.raises(ToolError) as info:
        pt.parse_options(pt.CRM_ATTRIBUTE, argv)
    assert (str(info.value), info.value.code) == (message, pt.EX_USAGE)


# ------------------------------------------------------------------ crm_attribute

def test_promotion_score_of_the_calling_agent():
    req = attr(["-p", "-v", "5"])
    assert fields(req) == ("update", "master-st", "status", "n1", "5")      # ':1' dropped, PACELINE_NODE first
    assert fields(attr(["--promotion=db:2", "-G"]))[1] == "master-db:2"      # an explicit id is taken as given
    assert fields(attr(["-p", "-l", "forever", "-D"]))[:3] == ("delete", "master-st", "nodes")
    assert fields(attr(["-p", "-N", "n2", "-G"]))[:4] == ("query", "master-st", "status", "n2")  # -p: reboot
    assert code_of(pt.crm_attribute_request, ["-p", "-G"], {}) == pt.EX_USAGE


@pytest.mark.parametrize(("argv", "scope", "node"), [
    (["-n", "a", "-G"], "crm_config", ""),                       # no node, no lifetime: a cluster option
    (["-n", "a", "-N", "n2", "-G"], "nodes", "n2"),              # a node: permanent attribute
    (["-n", "a", "-l", "reboot", "-G"], "status", "n1"),         # lifetime reboot on the local node
    (["-n", "a", "-l", "forever"], "nodes", "n1"),
    (["-n", "a", "-t", "status", "-l", "forever"], "nodes", "n1"),  # the last of -t/-l wins, as in Pacemaker
    (["-n", "a", "-l", "forever", "-t", "crm_config", "-N", "n2"], "crm_config", ""),
    (["-n", "a", "-t", "rsc_defaults"], "rsc_defaults", ""),
    (["-n", "a", "-z", "-N", "n2"], "nodes", "n2"),
])
def test_scope_and_node_follow_pacemakers_defaults(argv, scope, node):
    req = attr(argv)
    assert (req.scope, req.node) == (scope, node)


def test_commands_aliases_and_flags():
    assert attr(["-n", "a"]).command == "query"                                 # no command: a query
    assert fields(attr(["-n", "a", "-G", "-v", "1"]))[::4] == ("update", "1")   # the last command wins
    assert attr(["-n", "a", "-v", "1", "-D"]).command == "delete"
    req = attr(["--name", "a", "--attr-value", "2", "--uname", "n3", "-Q"])
    assert (req.command, req.value, req.node, req.quiet) == ("update", "2", "n3", True)
    req = attr(["-n", "a", "--get-value", "-d", "7", "-s", "set1", "-i", "ignored", "-V"])
    assert (req.command, req.default, req.set_name) == ("query", "7", "set1")
    assert attr(["-n", "cpu", "-z", "-N", "n2"]).utilization


@pytest.mark.parametrize(("argv", "code"), [
    (["-G"], pt.EX_USAGE), (["-n", "a", "-l", "sometimes"], pt.EX_USAGE), (["-n", "a", "-t", "tickets"], pt.EX_USAGE),
    (["-n", "a", "-z", "-l", "reboot"], pt.EX_USAGE), (["-P", "fail-.*", "-G"], pt.EX_UNIMPLEMENTED),
])
def test_crm_attribute_refuses(argv, code):
    assert code_of(pt.crm_attribute_request, argv, ENV) == code


def test_help_and_version_need_no_cluster():
    assert isinstance(pt.crm_attribute_request(["--help"], ENV), Info)
    out = io.StringIO()
    assert pt.run("crm_node", ["-$"], ENV, out) == 0
    assert out.getvalue().startswith("Paceline ")


# ------------------------------------------------------------------ crm_master, attrd_updater, crm_node

def master(argv: list[str], env: dict[str, str] = ENV) -> AttrRequest:
    req = pt.crm_master_request(argv, env)
    assert isinstance(req, AttrRequest)
    return req


def attrd(argv: list[str], env: dict[str, str] = ENV) -> AttrRequest:
    req = pt.attrd_updater_request(argv, env)
    assert isinstance(req, AttrRequest)
    return req


def test_crm_master_is_the_promotion_score_with_lifetime_reboot():
    req = master(["-v", "100"])
    assert fields(req) == ("update", "master-st", "status", "n1", "100")
    req = master(["-Q", "-l", "reboot", "-N", "n2", "-G"])
    assert (req.command, req.node, req.quiet) == ("query", "n2", True)
    req = master(["-r", "db", "-l", "forever", "-D"], {})
    assert fields(req)[:4] == ("delete", "master-db", "nodes", os.uname().nodename)
    assert code_of(pt.crm_master_request, ["-v", "1"], {}) == pt.EX_USAGE


def test_attrd_updater_requests():
    req = attrd(["-n", "foo", "-U", "3"])
    assert fields(req) == ("update", "foo", "status", "n1", "3")
    req = attrd(["-p", "-d", "5s", "-n", "foo", "-B", "4", "-S", "status"])
    assert fields(req) == ("update", "foo", "status", "n1", "4")             # dampening, private, section: accepted
    req = attrd(["-n", "foo", "-Q", "-A"])
    assert (req.command, req.all_nodes) == ("query", True)
    assert attrd(["-n", "foo", "-N", "n2"]).command == "query"
    assert attrd(["-n", "foo", "-v", "1", "-D"]).command == "delete"
    assert pt.attrd_updater_request(["-R"], ENV) is None                     # accepted no-ops
    assert pt.attrd_updater_request(["-n", "foo", "-Y", "-d", "3"], ENV) is None
    assert code_of(pt.attrd_updater_request, ["-Q"], ENV) == pt.EX_USAGE
    assert code_of(pt.attrd_updater_request, ["-n", "foo", "-A", "-U", "1"], ENV) == pt.EX_USAGE


def test_crm_node_requests():
    assert pt.crm_node_request(["-n"]) == ("name", "")
    assert pt.crm_node_request(["-l", "-p"]) == ("partition", "")              # the last command wins
    assert pt.crm_node_request(["-N", "3"]) == ("name_for_id", "3")
    assert code_of(pt.crm_node_request, []) == pt.EX_USAGE
    assert code_of(pt.crm_node_request, ["-R", "n2"]) == pt.EX_UNIMPLEMENTED


def test_local_node_and_instance():
    assert pt.local_node(ENV) == "n1"
    assert pt.local_node({"OCF_RESKEY_CRM_meta_on_node": "other"}) == "other"
    assert pt.local_node({}) == os.uname().nodename
    assert [pt.instance_resource({"OCF_RESOURCE_INSTANCE": i}) for i in ("st:12", "st", "a:b", "")] == \
        ["st", "st", "a:b", ""]


# ------------------------------------------------------------------ output

def test_output_formats():
    assert pt.format_attribute("status", "master-st", "10", quiet=False) == "scope=status  name=master-st value=10"
    assert pt.format_attribute("status", "master-st", "10", quiet=True) == "10"
    assert pt.format_attrd("foo", "n1", "3") == 'name="foo" host="n1" value="3"'
    nodes = [{"name": "n1", "id": "1", "online": True}, {"name": "n2", "id": "2", "online": False},
             {"name": "n3", "id": "3", "online": True}]
    assert pt.list_lines(nodes) == ["1 n1 member", "2 n2 lost", "3 n3 member"]
    assert pt.partition_line(nodes) == "n1 n3"


class FakeCluster(pt.Cluster):
    """Answers the typed attribute requests from a table (value, or the error the gateway would send); records
    them. The requests are built by the real :meth:`Cluster.attribute`."""

    def __init__(self, answers: dict[tuple[str, str, str, str], str | ToolError]):
        super().__init__("crm_attribute")
        self.answers = answers
        self.requests: list[AttributeRequest] = []

    def call(self, request: Any, reply: Any, timeout: float = 0) -> Any:
        assert isinstance(request, AttributeRequest) and reply is AttributeReply
        self.requests.append(request)
        answer = self.answers.get((request.command, request.scope, request.node, request.name))
        if isinstance(answer, ToolError):
            raise answer
        return AttributeReply(value=answer)


def test_queries_answer_as_pacemaker_does():
    cluster = FakeCluster({("get", "status", "n1", "master-st"): "5",
                           ("get", "status", "n9", "x"): pt.ToolCrmError(
                               "node status-attr: no node 'n9' (known: n1, n2)", "crm")})
    out = io.StringIO()
    assert pt.run_attribute(attr(["-p", "-G"]), cluster, out) == 0
    assert pt.run_attribute(attr(["-p", "-G", "-q"]), cluster, out) == 0
    assert pt.run_attribute(attr(["-l", "reboot", "-n", "gone", "-d", "0", "-G"]), cluster, out) == 0
    assert out.getvalue().splitlines() == ["scope=status  name=master-st value=5", "5",
                                           "scope=status  name=gone value=0"]
    with pytest.raises(ToolError) as info:
        pt.run_attribute(attr(["-l", "reboot", "-n", "gone", "-G"]), cluster, out)
    assert (str(info.value), info.value.code) == ("crm_attribute: no transient attribute 'gone' on node n1", 105)
    with pytest.raises(ToolError) as info:  # the gateway's refusal, without the crm command it names
        pt.run_attribute(attr(["-l", "reboot", "-N", "n9", "-n", "x", "-G"]), cluster, out)
    assert (str(info.value), info.value.code) == ("crm_attribute: no node 'n9' (known: n1, n2)", 105)
    assert pt.run_attribute(attr(["-p", "-v", "10"]), cluster, out) == 0
    assert pt.run_attribute(attr(["-N", "n2", "-z", "-n", "cpu", "-D"]), cluster, out) == 0
    assert cluster.requests[-2:] == [   # what "node status-attr n1 set master-st 10" and
        AttributeRequest(command="set", scope="status", name="master-st", node="n1", value="10"),
        AttributeRequest(command="delete", scope="nodes", name="cpu", node="n2", utilization=True),
    ]                                   # "node utilization n2 delete cpu" were


def test_cluster_options_and_their_sets():
    cluster = FakeCluster({("get", "crm_config", "", "db_REPL_INFO"): "n1"})
    out = io.StringIO()
    req = attr(["--type", "crm_config", "--name", "db_REPL_INFO", "-s", "db_replication", "--query", "-q"])
    assert pt.run_attribute(req, cluster, out) == 0 and out.getvalue() == "n1\n"
    assert cluster.requests[-1] == AttributeRequest(command="get", scope="crm_config", name="db_REPL_INFO",
                                                    set_name="db_replication")
    assert pt.run_attribute(attr(["-t", "rsc_defaults", "-n", "stickiness", "-v", "1"]), cluster, out) == 0
    assert cluster.requests[-1] == AttributeRequest(command="set", scope="rsc_defaults", name="stickiness", value="1")
    with pytest.raises(ToolError) as info:
        pt.run_attribute(attr(["-t", "op_defaults", "-n", "timeout", "-G"]), cluster, out)
    assert (str(info.value), info.value.code) == ("crm_attribute: no op_defaults option 'timeout' on the cluster", 105)


# ------------------------------------------------------------------ the wrappers, with no cluster to reach

def wrapper_env(tmp_path: Path) -> dict[str, str]:
    return {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "PACELINE_PYTHON": sys.executable,
            "PACELINE_NATS_URL": f"nats://127.0.0.1:{free_port()}", "PACELINE_NODE": "n1",
            "OCF_RESOURCE_INSTANCE": "st"}


def wrapper(tool: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([os.path.join(SBIN_DIR, tool), *args], env=env, capture_output=True, text=True,
                          timeout=30, cwd="/")


@pytest.mark.parametrize(("tool", "args"), [
    ("crm_attribute", ["-p", "-v", "5"]), ("crm_attribute", ["-n", "a", "-G"]), ("crm_master", ["-l", "reboot", "-D"]),
    ("attrd_updater", ["-n", "foo", "-U", "3"]), ("attrd_updater", ["-n", "foo", "-Q"]), ("crm_node", ["-l"]),
    ("crm_node", ["-q"]),
])
def test_wrappers_against_an_unreachable_cluster(tmp_path, tool, args):
    done = wrapper(tool, *args, env=wrapper_env(tmp_path))
    assert done.returncode == pt.EX_DISCONNECT
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"{tool}: cannot reach the cluster: ")


def test_wrappers_without_a_bus_to_look_for(tmp_path):
    env = {k: v for k, v in wrapper_env(tmp_path).items() if k != "PACELINE_NATS_URL"}
    env["PACELINE_LAB"] = str(tmp_path / "no-lab")
    done = wrapper("crm_attribute", "-p", "-G", env=env)
    assert done.returncode == pt.EX_DISCONNECT and done.stderr.startswith("crm_attribute: no cluster to talk to")


def test_wrappers_that_need_no_cluster_and_usage_errors(tmp_path):
    env = wrapper_env(tmp_path)
    done = wrapper("crm_node", "-n", env=env)
    assert (done.returncode, done.stdout, done.stderr) == (0, "n1\n", "")
    done = wrapper("crm_attribute", "--bogus", env=env)
    assert (done.returncode, done.stderr) == (pt.EX_USAGE, "crm_attribute: unknown option --bogus\n")
    done = wrapper("attrd_updater", "-U", "1", env=env)
    assert done.returncode == pt.EX_USAGE and "-n NAME" in done.stderr
    done = wrapper("crm_master", "-v", "1", env={**env, "OCF_RESOURCE_INSTANCE": ""})
    assert done.returncode == pt.EX_USAGE and "Traceback" not in done.stderr


def test_wrappers_are_executable_and_stay_light(tmp_path):
    for tool in pt.TOOLS:
        assert os.access(os.path.join(SBIN_DIR, tool), os.X_OK), tool
    # agents call these every monitor: no asyncio, nats-py, lxml or scheduler on the path of a request
    env = {**wrapper_env(tmp_path), "PYTHONPROFILEIMPORTTIME": "1"}
    done = wrapper("crm_attribute", "-p", "-G", "-q", env=env)
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "paceline.client.gateway" in imported and "paceline.shared.quickbus" in imported
    assert not {m for m in imported if m.split(".")[0] in ("asyncio", "nats", "lxml", "structlog")}
    assert not {m for m in imported if m.startswith(("paceline.policy", "paceline.crm"))}


# ------------------------------------------------------------------ what the executor gives agents

def test_agents_get_the_tools_folder_the_interpreter_and_the_node():
    env = cluster_environment({"PATH": "/usr/bin:/bin"}, "nats://10.0.0.1:4222", "prod", Path("/opt/pl/bin"),
                              node="n1", sbin_dir=Path(SBIN_DIR))
    assert env["HA_SBIN_DIR"] == SBIN_DIR
    assert env["PATH"] == f"/opt/pl/bin:{SBIN_DIR}:/usr/bin:/bin"       # bare `crm_attribute` finds it too
    assert (env["PACELINE_PYTHON"], env["PACELINE_NODE"]) == (sys.executable, "n1")
    again = cluster_environment(env, "nats://10.0.0.1:4222", "prod", Path("/opt/pl/bin"), node="n1",
                                sbin_dir=Path(SBIN_DIR))
    assert again["PATH"] == env["PATH"]
    # an operator's own HA_SBIN_DIR (real Pacemaker tools, say) is passed on and PATH is left alone
    env = cluster_environment({"PATH": "/usr/bin:/bin", "HA_SBIN_DIR": "/x"}, "nats://h:1", "c", Path("/b"),
                              sbin_dir=Path("/usr/sbin"))
    assert (env["HA_SBIN_DIR"], env["PATH"]) == ("/usr/sbin", "/b:/usr/bin:/bin")


def test_ha_sbin_dir_setting():
    assert config.load(env={}).ha_sbin_dir == ""
    assert config.load(env={"PACELINE_HA_SBIN_DIR": "/usr/sbin"}).ha_sbin_dir == "/usr/sbin"
