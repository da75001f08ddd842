"""crm_mon's and cibadmin's stand-ins without a cluster: what a command line asks for, and how a write goes to
the gateway (a fake :class:`Cluster` holding a CIB and its version, answering ``cib`` and ``commit``)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from paceline.cli import pcmk_clients as pc
from paceline.cli.pcmk_tools import Cluster, ToolCrmError, ToolError
from paceline.shared import cib
from paceline.shared.messages import CibCopyRequest, CibDocument, CommitReply, CommitRequest

CIB = ('<cib admin_epoch="0" epoch="3" num_updates="0"><configuration><crm_config/><nodes><node id="1" uname="n1"/>'
       '</nodes><resources/><constraints/></configuration><status><node_state id="1" uname="n1"/></status></cib>')
DUMMY = '<primitive id="d" class="ocf" provider="heartbeat" type="Dummy"/>'


class FakeCluster(Cluster):
    """A CIB and its version; ``commit`` compare-and-set on the version, losing ``races`` times first (another
    writer gets in: the epoch moves on)."""

    def __init__(self, races: int = 0):
        super().__init__("cibadmin")
        self.xml, self.epoch, self.races, self.commits = CIB, 3, races, 0

    def call(self, request: Any, reply: Any, timeout: float = 0) -> Any:
        if isinstance(request, CibCopyRequest):
            return CibDocument(xml=self.xml, version=f"0.{self.epoch}.0")
        assert isinstance(request, CommitRequest) and reply is CommitReply
        if self.races:
            self.races -= 1
            self.epoch += 1
            raise ToolCrmError("commit: the configuration changed since this session read it", "conflict")
        if request.expected_version != f"0.{self.epoch}.0":
            raise ToolCrmError("commit: conflict", "conflict")
        self.commits += 1
        self.epoch += 1
        self.xml = request.xml
        return CommitReply(version=f"0.{self.epoch}.0")


def admin(*argv: str, stdin: str = "") -> pc.AdminRequest:
    req = pc.cibadmin_request(list(argv), io.StringIO(stdin))
    assert isinstance(req, pc.AdminRequest)
    return req


def test_crm_mon_options():
    for argv, fmt in ((["-1"], "text"), (["-1", "-r"], "text"), (["-X"], "xml"), (["--as-xml"], "xml"),
                      (["--output-as", "xml"], "xml"), (["--output-as=text", "-n", "-f"], "text"),
                      (["-1", "-r", "-j", "-Q", "-m", "3"], "text")):
        req = pc.crm_mon_request(argv)
        assert isinstance(req, pc.MonRequest) and req.fmt == fmt
    req = pc.crm_mon_request(["-1", "-r", "-n", "-f", "-o", "-t", "-A", "-r"])
    assert isinstance(req, pc.MonRequest) and req.show == ("inactive", "bynode", "failcounts", "operations",
                                                           "timing", "attributes")
    plain = pc.crm_mon_request(["-1"])
    assert isinstance(plain, pc.MonRequest) and plain.show == ()
    assert "--pending" not in str(pc.crm_mon_request(["--help"]))   # crmsh would then add -j: accepted anyway
    for argv, code in ((["-s"], 3), (["--output-as", "html"], 64), (["--bogus"], 64), (["-d"], 3)):
        with pytest.raises(ToolError) as err:
            pc.crm_mon_request(argv)
        assert err.value.code == code


def test_cibadmin_options():
    req = admin("-p", "-R", "--force", stdin="<configuration/>")
    assert (req.operation, req.xml, req.force) == ("replace", "<configuration/>", True)
    req = admin("-Ql")
    assert req.operation == "query" and req.xml == ""
    req = admin("-D", "-o", "nodes", "-X", '<node uname="n1"/>')
    assert (req.operation, req.scope, req.xml) == ("delete", "nodes", '<node uname="n1"/>')
    req = admin("-d", "-f", "--xpath", "//nvpair")
    assert (req.operation, req.delete_all, req.xpath) == ("delete", True, "//nvpair")
    for argv, code in ((["-d", "--xpath", "//nvpair"], 107), (["-C", "-o", "resources"], 64), (["-o", "nodes"], 64),
                       (["-E"], 3), (["-M", "-x", "/nonexistent/file.xml"], 78)):
        with pytest.raises(ToolError) as err:
            pc.cibadmin_request(argv, io.StringIO(""))
        assert err.value.code == code, argv


def test_a_write_is_one_commit_on_the_version_read():
    cluster = FakeCluster()
    assert pc.run_cibadmin(admin("-C", "-o", "resources", "-X", DUMMY), cluster, io.StringIO()) == 0
    assert cluster.commits == 1 and cib.parse_cib(cluster.xml).find(".//primitive[@id='d']") is not None


def test_a_lost_race_is_applied_again_to_the_new_cib_and_gives_up_after_a_few():
    cluster = FakeCluster(races=2)
    pc.run_cibadmin(admin("-C", "-o", "resources", "-X", DUMMY), cluster, io.StringIO())
    assert cluster.commits == 1
    hopeless = FakeCluster(races=pc.MAX_ATTEMPTS)
    with pytest.raises(ToolError) as err:
        pc.run_cibadmin(admin("-C", "-o", "resources", "-X", DUMMY), hopeless, io.StringIO())
    assert err.value.code == pc.EX_TEMPFAIL and hopeless.commits == 0


def test_nothing_changed_writes_nothing():
    cluster = FakeCluster()
    pc.run_cibadmin(admin("-D", "-X", '<primitive id="nope"/>'), cluster, io.StringIO())
    assert cluster.commits == 0


def test_the_status_section_is_refused_except_as_part_of_a_whole_cib():
    with pytest.raises(ToolError) as err:
        pc.run_cibadmin(admin("-D", "-o", "status", "-X", '<node_state uname="n1"/>'), FakeCluster(),
                        io.StringIO())
    assert err.value.code == 3
    whole = CIB.replace('epoch="3"', 'epoch="9"').replace('<node_state id="1" uname="n1"/>', "")
    root, note = pc.apply_write(cib.parse_cib(CIB), admin("-R", "-X", whole))
    assert root is not None and "status section" in note


def test_the_gateways_refusals_as_pacemakers_exit_codes():
    class Refusing(FakeCluster):
        def __init__(self, kind: str):
            super().__init__()
            self.kind = kind

        def call(self, request: Any, reply: Any, timeout: float = 0) -> Any:
            if isinstance(request, CommitRequest):
                raise ToolCrmError("commit: refused", self.kind)
            return super().call(request, reply, timeout)

    for kind, code in (("invalid", 78), ("forbidden", 4), ("no-answer", 124), ("crm", 1)):
        with pytest.raises(ToolError) as err:
            pc.run_cibadmin(admin("-C", "-o", "resources", "-X", DUMMY), Refusing(kind), io.StringIO())
        assert err.value.code == code
        assert "commit:" not in str(err.value)


def test_query_prints_sections_and_xpath_matches():
    out = io.StringIO()
    pc.run_cibadmin(admin("-Q", "-o", "nodes"), FakeCluster(), out)
    assert out.getvalue() == '<nodes>\n  <node id="1" uname="n1"/>\n</nodes>\n'
    with pytest.raises(ToolError) as err:
        pc.run_cibadmin(admin("-Q", "--xpath", "//primitive"), FakeCluster(), out)
    assert err.value.code == 105


def test_every_exit_code_is_documented():
    from paceline.shared import cib_ops

    used = {v for k, v in vars(pc).items() if k.startswith("EX_")} | \
        {v for k, v in vars(cib_ops).items() if k.startswith("EX_")} | {102}
    assert used - {0} <= set(pc.EXIT_CODES)


def test_paceline_tools_names_the_folder_of_the_stand_ins(capsys):
    import os

    from paceline.cli import tools

    assert tools.command(None, ["path"]) == 0
    folder = capsys.readouterr().out.strip()
    assert all(os.access(os.path.join(folder, name), os.X_OK) for name in tools.TOOLS)
    tools.command(None, ["env"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"export PATH={folder}:") and lines[1].startswith("export PACELINE_PYTHON=")
    with pytest.raises(tools.CliError):
        tools.command(None, ["bogus"])


def test_crm_mon_xml_says_why_it_failed_in_the_document(monkeypatch):
    from lxml import etree

    def unreachable(self: Cluster, request: Any, reply: Any, timeout: float = 0) -> Any:
        raise ToolError("crm_mon: cannot reach the cluster: no bus", 102)

    monkeypatch.setattr(Cluster, "call", unreachable)
    out = io.StringIO()
    with pytest.raises(ToolError) as err:
        pc.run("crm_mon", ["-X"], out=out)
    assert err.value.code == 102
    status = etree.fromstring(out.getvalue().encode()).find("status")
    assert status is not None and (status.get("code"), status.get("message")) == ("102", "Not connected")
