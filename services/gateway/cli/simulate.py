"""The scheduler run offline: ``paceline simulate`` (crm_simulate's twin) and ``resource why`` on a CIB file.

As ``crm_simulate`` links Pacemaker's scheduler library, this module is the one
place outside the policy service that imports ``paceline.policy``. A live
cluster's ``resource why`` is answered by the DC over the bus instead, from its
own view of the cluster. The scheduler is imported on use: most commands never
need it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from paceline.crm.errors import CrmError

if TYPE_CHECKING:
    from paceline.cli.invocation import Options
    from paceline.shared.cib import Element


def main(argv: list[str]) -> int:
    """``paceline simulate ARGS``."""
    from paceline.policy.simulate import main as simulate

    return simulate(argv)


def command(opts: Options, args: list[str]) -> int:
    """The top-level ``simulate``: a scheduling run leaves a large heap, not worth freeing object by object.

    The cyclic collector is off from here on, before the scheduler's modules load: their thousands of
    functions and classes would cost collections that find nothing, as the run's own objects would (the
    simulate module keeps it off while it runs, and the process ends right after)."""
    import gc

    gc.disable()
    opts.one_shot = True
    return main(args)


def explain_offline(root: Element, rsc: str) -> str:
    """``resource why RSC`` on a CIB that no cluster runs: every contribution to its score on every node."""
    from paceline.policy.scheduler.explain import explain

    try:
        return explain(root, rsc).text()
    except KeyError:
        raise CrmError(f"resource why: no resource {rsc!r}") from None


def pending_actions(root: Element) -> list[str]:
    """The actions the scheduler would still take on this CIB (crm_simulate's labels); none: the cluster has
    settled, by Pacemaker's own test (``crm_resource --wait`` asks the scheduler the same question)."""
    from paceline.policy.scheduler import schedule

    return [action.label() for action in schedule(root).graph.actions]
