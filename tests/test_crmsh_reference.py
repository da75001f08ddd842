"""The crmsh conventions of tests/unit/test_crm_crmsh_conventions.py replayed against Debian's crmsh 4.4 itself.

The same command file runs through ``crm -f`` on one copy of the shared base CIB (``CIB_file``: crmsh works on
a file with no cluster) and through ``paceline --cib-file COPY -f`` on another; the configurations must then
be the same, compared as tools/crmsh_cases.py compares them (volatile attributes dropped, attributes sorted).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CRM = shutil.which("crm") or "/usr/sbin/crm"
LINES = """\
configure primitive r1 ocf:heartbeat:Dummy
configure monitor r1:Started 10s:20s
configure monitor r1 30s
configure monitor r1:Master 11s
configure location l1 r1 rule 100: #uname eq primary and pingd gt 0
configure location l2 r1 rule 50: #uname eq primary or pingd gt 0
configure location l3 r1 rule -inf: not_defined pingd or pingd lte 0
configure location l4 r1 rule 10: a eq 1 and b eq 2 and c eq 3
configure node primary attributes foo=bar utilization cpu=2
configure node primary attributes baz=1
configure node primary attributes foo=changed qux=3
configure node secondary utilization cpu=4
configure node secondary utilization cpu=8 mem=1
configure node secondary attributes x=1
configure node $id=5 n5 attributes a=1
configure node n5 attributes b=2
configure primitive r2 ocf:heartbeat:Dummy
configure rsc_ticket t1 ticketA: r1 loss-policy=stop
configure rsc_ticket t2 ticketB: r1 r2:Started loss-policy=demote
configure rsc_ticket t3 ticketC: r2:Stopped
configure rsc_ticket t4 ticketD: r1 r2
configure primitive r3 ocf:heartbeat:Dummy op monitor interval=10s
configure bundle b1 docker image=pcmk:httpd replicas=3 network ip-range-start=192.168.122.131 host-netmask=24 \
port-mapping port=80 storage storage-mapping target-dir=/var/www/html source-dir=/srv/www options=rw \
storage-mapping id=logs source-dir-root=/var/log/b1 target-dir=/var/log primitive r3 meta target-role=Started
configure bundle b2 docker image=x replicas=2 run-command="/usr/bin/remote --x" options="--net=host -e A=1"
"""


def _normalize(shared_dir: Path):
    spec = importlib.util.spec_from_file_location("crmsh_cases_tool", shared_dir / "tools" / "crmsh_cases.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.normalize


@pytest.mark.skipif(not os.path.exists(CRM), reason="Debian's crmsh is not installed (apt-get install crmsh)")
def test_paceline_writes_what_crmsh_writes(shared_dir: Path, tmp_path: Path) -> None:
    script = tmp_path / "lines.crm"
    script.write_text(LINES)
    theirs, ours = tmp_path / "crmsh.xml", tmp_path / "paceline.xml"
    for copy in (theirs, ours):
        shutil.copy(shared_dir / "crmsh-cases" / "base.xml", copy)
    env = {**os.environ, "CIB_file": str(theirs)}
    subprocess.run([CRM, "-f", str(script)], env=env, capture_output=True, text=True, timeout=300)
    env.pop("CIB_file")
    done = subprocess.run([sys.executable, "-m", "paceline.cli.main", "--cib-file", str(ours), "-f", str(script)],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    normalize = _normalize(shared_dir)
    assert normalize(str(ours)) == normalize(str(theirs))
