"""Every shared crmsh case, run in-process through execute_script and compared as crmsh_cases.py does."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from lxml import etree
from paceline.crm import AgentMeta, Context, CrmScriptError, execute_script
from paceline.shared import cib

# The agents the recorded cases use, with the parameters their meta-data declares (resource-agents 4.x).
_AGENT_METADATA = {
    ("ocf", "heartbeat", "Dummy"): ["state", "passwd", "fake", "op_sleep", "fail_start_on"],
    ("ocf", "heartbeat", "IPaddr2"): ["ip*", "nic", "cidr_netmask", "broadcast", "iflabel", "lvs_support",
                                       "mac", "clusterip_hash", "arp_interval", "arp_count", "preferred_lft"],
    ("ocf", "heartbeat", "apache"): ["configfile", "httpd", "port", "statusurl", "options", "envfiles"],
    ("ocf", "pacemaker", "Stateful"): ["state", "notify_delay", "envfile"],
}


def _meta_xml(names: list[str]) -> str:
    params = "".join(f'<parameter name="{n.rstrip("*")}" required="{int(n.endswith("*"))}"/>' for n in names)
    return f"<resource-agent><parameters>{params}</parameters></resource-agent>"


AGENTS = {key: AgentMeta.from_xml(_meta_xml(names)) for key, names in _AGENT_METADATA.items()}
CTX = Context(local_node="primary", agent_known=lambda c, p, t: (c, p or "", t) in AGENTS,
              agent_meta=lambda c, p, t: AGENTS.get((c, p or "", t)))


def _tool(shared_dir: Path):
    spec = importlib.util.spec_from_file_location("crmsh_cases_tool", shared_dir / "tools" / "crmsh_cases.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _case_names() -> list[str]:
    from tests.conftest import SHARED  # the folder the shared_dir fixture uses

    cases = Path(SHARED) / "crmsh-cases"
    return sorted(p.name[:-4] for p in cases.glob("*.crm")) or ["(no cases found)"]


@pytest.mark.parametrize("name", _case_names())
def test_crmsh_case(name: str, shared_dir: Path, tmp_path: Path) -> None:
    cases = shared_dir / "crmsh-cases"
    start = cases / f"{name}.start.xml"
    if not start.exists():
        start = cases / "base.xml"
    root = cib.parse_cib(start.read_bytes())
    lines = (cases / f"{name}.crm").read_text().splitlines()
    try:
        execute_script(root, lines, CTX)
        failed: list[str] = []
    except CrmScriptError as exc:
        failed = exc.errors
    if name.split("-", 2)[1] == "err":
        assert failed, "an error case must report its failing lines"
    else:
        assert not failed, failed
    got = tmp_path / "got.xml"
    got.write_bytes(etree.tostring(root))
    tool = _tool(shared_dir)
    assert tool.normalize(str(got)) == tool.normalize(str(cases / f"{name}.expected.xml"))
