"""``paceline simulate``: run the scheduler offline on a CIB file, like ``crm_simulate``.

It prints the same sections as crm_simulate ("Current cluster status:",
"Transition Summary:", "Executing Cluster Transition:", "Revised Cluster
Status:") so Pacemaker's regression cases can be replayed against Paceline
and sysadmins can ask "what would the cluster do?" before changing anything.
With -S every action of the transition is assumed to succeed; its results are
recorded with paceline.shared.lrm exactly as the executor would record them.
"""

from __future__ import annotations

import argparse
import copy
import gc
import sys
from collections.abc import Sequence

from lxml import etree
from paceline.policy.graph import Action, Graph
from paceline.policy.scheduler import ScheduleResult, schedule
from paceline.shared import cib, lrm
from paceline.shared.cluster import render_status, unpack
from paceline.shared.cluster.timespec import format_datetime, parse_datetime


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="paceline simulate",
                                 description="Show what the scheduler would do with a CIB.")
    ap.add_argument("-x", "--xml-file", required=True, help="CIB file to read")
    ap.add_argument("-S", "--simulate", action="store_true", help="apply the transition, show the result")
    ap.add_argument("-R", "--run", action="store_true", help="compute the transition only (the default)")
    ap.add_argument("-s", "--show-scores", action="store_true", help="show allocation scores")
    ap.add_argument("-t", "--set-datetime", help="evaluate as of this date/time (ISO 8601)")
    ap.add_argument("-G", "--save-graph", metavar="FILE", help="write the transition graph as XML")
    ap.add_argument("-Q", "--quiet", action="store_true", help="do not show the cluster status")
    ap.add_argument("--output-as", choices=("text", "json"), default="text")
    ap.add_argument("--explain", metavar="RSC", help="list every contribution to RSC's score on every node")
    ap.add_argument("-V", "--verbose", action="count", default=0,
                    help="print the configuration errors found (what was left out or replaced by its default) "
                         "on stderr, as crm_simulate -V logs them")
    return ap


class UsageError(Exception):
    """A problem with the user's input; printed as one line."""


def _load(path: str) -> etree._Element:
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    try:
        return cib.parse_cib(data)
    except cib.CibError as exc:
        raise UsageError(f"{path}: {exc}") from None


def action_label(action: Action, fencing_action: str = "reboot") -> str:
    """How crm_simulate names an action in "Executing Cluster Transition"."""
    if action.task == "stonith" and action.pseudo:     # a guest's, done by recovering its container
        return f"Pseudo action:   stonith-{action.node}-{action.meta.get('fencing-action', fencing_action)} " \
               f"on {action.node}"
    if action.task == "stonith":
        return f"Fencing {action.node} ({action.meta.get('fencing-action', fencing_action)})"
    if action.pseudo:
        return f"Pseudo action:   {action.rsc}_{action.task}_{action.interval_ms}"
    task = f"{action.task}={action.interval_ms}" if action.interval_ms else action.task
    return f"Resource action: {action.rsc:<15} {task} on {action.node}"


def execution_order(graph: Graph) -> list[Action]:
    """Waves of ready actions, as the transition engine would fire them."""
    done: set[int] = set()
    pending = list(graph.actions)
    order: list[Action] = []
    while pending:
        ready = [a for a in pending if all(i in done for i in a.inputs)]
        if not ready:          # a cycle: run the rest in id order rather than hang
            ready = pending[:]
        for a in ready:
            done.add(a.id)
            order.append(a)
        pending = [a for a in pending if a.id not in done]
    return order


def apply_transition(root: etree._Element, graph: Graph, now: float) -> etree._Element:
    """A copy of the CIB with every action of the graph recorded as a success."""
    revised = copy.deepcopy(root)
    call_id = 1000
    for action in execution_order(graph):
        if action.task == "stonith" and action.meta.get("fencing-action") == "on":
            ns = cib.node_state(revised, action.node or "", create=True)
            lrm.apply_status_ops(ns, [{"op": "attr", "name": "#node-unfenced", "value": str(int(now))}])
            continue
        if action.task == "stonith":
            ns = cib.node_state(revised, action.node or "", create=True)
            lrm.apply_status_ops(ns, [{"op": "node_state", "attrs": {
                "in_ccm": "false", "crmd": "offline", "join": "down", "expected": "down"}},
                {"op": "lrm_clear"}])
            transient = ns.find("transient_attributes")
            if transient is not None:
                ns.remove(transient)
            continue
        if action.pseudo or not action.rsc or not action.node or action.task == "notify":
            continue      # notifications leave no history
        call_id += 1
        result = lrm.OpResult(rsc=action.rsc, task=action.task, interval_ms=action.interval_ms,
                              rc=action.expected_rc, call_id=call_id, digest=action.digest,
                              transition_key=f"{action.id}:1:{action.expected_rc}:paceline-simulate",
                              node=action.node, last_rc_change=int(now), expected_rc=action.expected_rc)
        ns = cib.node_state(revised, action.node, create=True)
        lrm.apply_status_ops(ns, lrm.result_ops(result, action.agent))
    return revised


def _text_report(args: argparse.Namespace, root: etree._Element, result: ScheduleResult,
                 now: float) -> list[str]:
    out: list[str] = []
    state = result.state
    if state.execution_date_given and not args.set_datetime:
        out.append(f"Using the original execution date of: {format_datetime(state.now)}")
    if not args.quiet:
        out += ["Current cluster status:", *render_status(state, failed_actions=False, config_errors=False), ""]
    if args.show_scores:
        out += ["Allocation scores:", *result.scores, ""]
    out += ["Transition Summary:", *result.summary, ""]
    if args.simulate:
        out.append("Executing Cluster Transition:")
        out += [f"  * {action_label(a, state.fencing_action)}" for a in execution_order(result.graph)]
        revised = unpack(apply_transition(root, result.graph, now), now)
        if state.execution_date_given and not args.set_datetime:
            out += ["", f"Using the original execution date of: {format_datetime(state.now)}"]
        out += ["", "Revised Cluster Status:", *render_status(revised, failed_actions=False, config_errors=False)]
    return out


#: The last run's CIB and result, kept until the process ends: ``paceline simulate`` exits without freeing its
#: heap (``os._exit``), and a scheduling run's objects freed one by one as ``run`` returns cost ~20 ms.
_KEEP: list[tuple[etree._Element, ScheduleResult]] = []


def run(argv: Sequence[str]) -> tuple[int, str, str]:
    """Everything ``main`` does, returned as (exit status, stdout text, stderr text) instead of printed."""
    args = _parser().parse_args(list(argv))
    try:
        root = _load(args.xml_file)
        now = None
        if args.set_datetime:
            try:
                now = parse_datetime(args.set_datetime)
            except ValueError as exc:
                raise UsageError(str(exc)) from None
        if args.explain is not None:
            return _explain(root, args.explain, now, args.output_as)
        result = schedule(root, now)
        _KEEP[:] = [(root, result)]
    except UsageError as exc:
        return 1, "", f"paceline simulate: {exc}\n"
    now = result.state.now
    if args.save_graph:
        try:
            with open(args.save_graph, "w") as fh:
                fh.write(result.graph.to_xml())
        except OSError as exc:
            return 1, "", f"paceline simulate: cannot write {args.save_graph}: {exc.strerror}\n"
    errors = config_error_text(result.state.config_errors) if args.verbose else ""
    if args.output_as == "json":
        import json  # on use, as below: the text report is the common case

        doc: dict = {"summary": result.summary, "actions": [a.to_body() for a in execution_order(result.graph)],
                     "scores": result.scores, "graph": result.graph.to_body(), "status": render_status(result.state),
                     "config_errors": result.state.config_errors}
        if args.simulate:
            doc["revised_status"] = render_status(unpack(apply_transition(root, result.graph, now), now))
        return 0, json.dumps(doc, indent=2) + "\n", errors
    return 0, "\n".join(_text_report(args, root, result, now)) + "\n", errors


def config_error_text(errors: Sequence[str]) -> str:
    """The configuration errors for stderr, one ``error:`` line each, as ``crm_simulate -V`` logs its
    configuration errors there (``error: Ignoring <primitive> resource 'x' because configuration is
    invalid``) while the transition it prints on stdout is made without what they name. Without -V
    crm_simulate says nothing of them, and neither does this (the JSON output always has them)."""
    return "".join(f"error: {e}\n" for e in errors)


def _explain(root: etree._Element, rsc: str, now: float | None, output_as: str) -> tuple[int, str, str]:
    try:
        from paceline.policy.scheduler.explain import explain  # on use: only --explain needs it

        ex = explain(root, rsc, now)
    except KeyError:
        return 1, "", f"paceline simulate: no resource {rsc!r} in the CIB\n"
    if output_as == "json":
        import json

        return 0, json.dumps(ex.to_dict(), indent=2) + "\n", ""
    return 0, ex.text(), ""


def main(argv: Sequence[str] | None = None) -> int:
    """Print what ``run`` returns.

    A scheduling run allocates millions of objects that all stay live until
    it ends: the cyclic collector would walk them again and again for
    nothing, so it is off for this one-shot command.
    """
    gc.disable()
    try:
        code, out, err = run(sys.argv[1:] if argv is None else argv)
    finally:
        gc.enable()
    sys.stdout.write(out)
    sys.stderr.write(err)
    return code


if __name__ == "__main__":
    sys.exit(main())
