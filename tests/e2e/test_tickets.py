"""Tickets end to end, on a lab cluster of real processes (issue 14's acceptance point): a resource that
depends on a ticket with ``loss-policy=stop`` waits for the ticket, starts when it is granted, stops when it
is revoked and starts again when it is granted again - through ``paceline site ticket`` and through the
``crm_ticket`` stand-in (what booth and scripts run), with the DC re-planning on each change of the status
section's tickets.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from paceline.executor.runner import SBIN_DIR

from tests.e2e.conftest import PATIENCE, POLL, FailureLab, running_lab
from tests.support.wait import holds, until

pytestmark = pytest.mark.e2e

class TicketLab(FailureLab):
    """A lab whose Pacemaker tools are the stand-ins (``crm_ticket``, ``cibadmin``) first on PATH."""

    def env(self) -> dict[str, str]:
        env = super().env()
        env["PATH"] = os.pathsep.join([str(SBIN_DIR), env.get("PATH", "")])
        env["PACELINE_PYTHON"] = sys.executable     # the stand-ins run with this interpreter's paceline
        return env

    def tool(self, *argv: str) -> subprocess.CompletedProcess:
        return subprocess.run(list(argv), capture_output=True, text=True, env=self.env(), timeout=120)

    def page(self) -> str:
        return self.crm("status", "-1", "-r", "-c")


@pytest.fixture(scope="module")
def tlab(tmp_path_factory) -> Iterator[TicketLab]:
    with running_lab(TicketLab(Path(tmp_path_factory.mktemp("tlab")))) as runner:
        runner.crm("configure", "property", "stonith-enabled=false")
        yield runner


def test_a_ticket_revoked_with_loss_policy_stop_stops_its_resource_and_granted_again_starts_it(tlab):
    tlab.primitive("web")
    until(lambda: tlab.running_on("web"), "web runs before it depends on a ticket", PATIENCE, POLL)
    tlab.crm("configure", "rsc_ticket", "web-needs-siteA", "siteA:", "web", "loss-policy=stop")
    # The ticket exists only in the constraint: not granted, so the running resource stops (loss-policy=stop).
    until(lambda: not tlab.running_on("web"), "web stops without its ticket", PATIENCE, POLL)
    assert "  * siteA: revoked" in tlab.page()

    tlab.crm("site", "ticket", "grant", "siteA", "--force")
    until(lambda: tlab.running_on("web"), "web starts once siteA is granted", PATIENCE, POLL)
    assert tlab.crm("site", "ticket", "show", "siteA").strip() == "ticket siteA is granted"
    listed = tlab.tool("crm_ticket", "-l")
    assert listed.returncode == 0 and listed.stdout.startswith("siteA\tgranted           last-granted='")

    # Revoking needs --force, as with Pacemaker's crm_ticket; refused, nothing changes.
    refused = tlab.tool("crm_ticket", "-t", "siteA", "-r")
    assert refused.returncode == 4, refused
    assert refused.stderr.strip() == "crm_ticket: Ticket modification not allowed"
    assert "please specify --force" in refused.stdout
    assert holds(lambda: tlab.running_on("web"), 2.0, POLL), "web stopped after a refused revoke"

    revoked = tlab.tool("crm_ticket", "-t", "siteA", "-r", "--force")
    assert revoked.returncode == 0, revoked.stderr
    until(lambda: not tlab.running_on("web"), "web stops when siteA is revoked", PATIENCE, POLL)
    assert tlab.tool("crm_ticket", "-t", "siteA", "-G", "granted").stdout == "false\n"
    assert "  * siteA: revoked last-granted=" in tlab.page()

    tlab.crm("site", "ticket", "grant", "siteA", "--force")
    until(lambda: tlab.running_on("web"), "web starts again when siteA is granted again", PATIENCE, POLL)

    # Standby stops what depends on the ticket without revoking it; activate lets it run again.
    tlab.crm("site", "ticket", "standby", "siteA")
    until(lambda: not tlab.running_on("web"), "web stops while siteA is in standby", PATIENCE, POLL)
    assert "  * siteA: granted [standby] last-granted=" in tlab.page()
    activated = tlab.tool("crm_ticket", "-t", "siteA", "-a")
    assert activated.returncode == 0, activated.stderr
    until(lambda: tlab.running_on("web"), "web starts when siteA is active again", PATIENCE, POLL)
