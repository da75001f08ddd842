"""``paceline lab ...`` argument handling (the work is in :mod:`paceline.lab.lab`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Protocol

from paceline.lab.lab import Lab, LabError, default_dir
from paceline.lab.netns import NetnsError
from paceline.shared.natsserver import NatsServerError


class _Invocation(Protocol):
    lab: str | None   # --lab DIR of the paceline command


def command(opts: _Invocation, args: list[str]) -> int:
    """The ``paceline lab`` command of the CLI's registry."""
    return run_lab(args, opts.lab)


def run_lab(argv: list[str], lab_dir: str | None) -> int:
    p = argparse.ArgumentParser(prog="paceline lab", description="a Paceline cluster of real processes on this machine")
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument("--dir", default=argparse.SUPPRESS,
                       help="lab directory (default $PACELINE_LAB or ~/.paceline/lab)")
    p.add_argument("--dir", default=lab_dir, help="lab directory (default $PACELINE_LAB or ~/.paceline/lab)")
    sub = p.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("up", help="start the bus and every service", parents=[where])
    up.add_argument("--nodes", default="primary,secondary", help="comma-separated node names")
    up.add_argument("--cluster", default="lab")
    up.add_argument("--token-timeout", type=float, help="membership token timeout in seconds (default 1.0)")
    up.add_argument("--netns", action="store_true",
                    help="root only: each node in its own network namespace on a lab bridge (10.213.0.0/24)")
    up.add_argument("--witness", action="append", metavar="NAME",
                    help="add a bus-only node (a nats-server with JetStream, no services, no resources) that keeps "
                         "the bus's majority when a node dies; a two-node lab gets one called 'witness' by default")
    up.add_argument("--no-witness", action="store_true", help="no witness, even for two nodes")
    up.add_argument("--remote", action="append", metavar="NAME",
                    help="add a remote node: an executor only (no membership, policy or bus server; no vote), "
                         "brought into the cluster by 'configure primitive NAME ocf:pacemaker:remote'")
    up.add_argument("--watchdog-timeout", type=float, default=None, metavar="SECONDS",
                    help="each node's watchdog resets it after this long without a pet from its membership "
                         "(default 2 with three nodes or more, none with fewer; survivors wait twice that "
                         "before recovering its resources)")
    up.add_argument("--no-watchdog", action="store_true", help="no watchdogs (no self-fencing)")
    up.add_argument("--insecure", action="store_true",
                    help="an open bus: no TLS, no credentials (by default the lab makes them, as 'paceline keygen', "
                         "in DIR/credentials, and every service, the CLI and the lab's tools use them)")
    up.add_argument("--single-bus", action="store_true",
                    help="one shared nats-server instead of one per node (no failover or safety claim holds on it)")
    sub.add_parser("status", parents=[where], help="the lab's processes")
    ar = sub.add_parser("add-remote", parents=[where],
                        help="add a remote node to the running lab (an executor only; bring it in with "
                             "'configure primitive NAME ocf:pacemaker:remote')")
    ar.add_argument("node")
    ag = sub.add_parser("add-guest", parents=[where],
                        help="make a guest node's credential (remote@NODE) and nothing else: its executor runs in "
                             "a container (a bundle replica, or a container primitive with meta remote-node)")
    ag.add_argument("node", nargs="+")
    k = sub.add_parser("kill", parents=[where], help="crash a node: SIGKILL its processes and the services it runs")
    k.add_argument("node")
    r = sub.add_parser("revive", parents=[where], help="start a killed node again")
    r.add_argument("node")
    rs = sub.add_parser("restart", parents=[where],
                        help="start one process of a node again after it died (a service, or nats-server)")
    rs.add_argument("node")
    rs.add_argument("process")
    for verb, text in (("pause", "hang a node's cluster software: SIGSTOP its services and bus server "
                                 "(its resources keep running)"),
                       ("resume", "SIGCONT what pause stopped"),
                       ("isolate", "cut a node off from all others (a network partition; netns labs only)"),
                       ("heal", "give an isolated node its link back")):
        sub.add_parser(verb, parents=[where], help=text).add_argument("node")
    sub.add_parser("down", parents=[where], help="stop everything")
    args = p.parse_args(argv)
    directory = Path(args.dir) if args.dir else default_dir()
    try:
        if args.cmd == "up":
            lab = Lab(dir=directory, cluster=args.cluster)
            if args.token_timeout:
                lab.settings["PACELINE_TOKEN_TIMEOUT"] = str(args.token_timeout)
            if args.no_watchdog:
                lab.watchdog_timeout = 0.0
            elif args.watchdog_timeout is not None:
                lab.watchdog_timeout = args.watchdog_timeout
            witnesses = [] if args.no_witness else _names(",".join(args.witness)) if args.witness else None
            remotes = _names(",".join(args.remote)) if args.remote else []
            lab.up(_names(args.nodes), with_netns=args.netns, witnesses=witnesses, single_bus=args.single_bus,
                   secure=not args.insecure, remotes=remotes)
            print(lab.describe())
            return 0
        lab = Lab.load(directory)
        if args.cmd == "status":
            print(lab.describe())
        elif args.cmd == "add-remote":
            lab.add_remote(args.node)
            print(f"remote node {args.node} added (bring it in: paceline configure primitive {args.node} "
                  "ocf:pacemaker:remote)")
        elif args.cmd == "add-guest":
            for node in args.node:
                lab.add_guest(node)
            print(f"guest node credential{'s' if len(args.node) > 1 else ''} made: "
                  + ", ".join(f"remote@{node}" for node in args.node)
                  + (f" (in {lab.credentials})" if lab.credentials else " (an open bus needs none)"))
        elif args.cmd == "kill":
            lab.kill(args.node)
            print(f"node {args.node} killed")
        elif args.cmd == "revive":
            lab.revive(args.node)
            print(f"node {args.node} is back")
        elif args.cmd == "restart":
            lab.restart(args.node, args.process)
            print(f"{args.node}/{args.process} started again")
        elif args.cmd in ("pause", "resume"):
            pids = lab.pause(args.node, resume=args.cmd == "resume")
            print(f"node {args.node} {'resumed' if args.cmd == 'resume' else 'paused'} ({len(pids)} processes)")
        elif args.cmd in ("isolate", "heal"):
            lab.isolate(args.node, heal=args.cmd == "heal")
            print(f"node {args.node} {'healed' if args.cmd == 'heal' else 'isolated'}")
        elif args.cmd == "down":
            lab.down()
            print(f"lab in {directory} stopped")
        return 0
    except (LabError, NetnsError, NatsServerError) as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1


def _names(text: str) -> list[str]:
    return [n.strip() for n in text.split(",") if n.strip()]
