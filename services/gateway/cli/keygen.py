"""``paceline keygen``: the cluster's credentials, as ``corosync-keygen`` makes corosync's authkey.

    paceline keygen --cluster NAME --nodes node1,node2,node3 [--address node1=10.0.0.1 ...]
                    [--dir /etc/paceline/credentials] [--force | --if-missing]

Made once, on one machine, then copied to every node (the whole directory;
``ca.key`` may stay behind, it is needed only to add machines later). The
services, the CLI and external tools find it through ``PACELINE_CREDENTIALS``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from paceline.cli.invocation import Options


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="paceline keygen", description="Make the cluster's credentials.")
    p.add_argument("--cluster", required=True, help="the cluster's name (its subject prefix)")
    p.add_argument("--nodes", required=True, help="the cluster's nodes, comma-separated")
    p.add_argument("--address", action="append", default=[], metavar="NODE=ADDR",
                   help="an address a node's bus server is reached at (for its certificate); repeatable")
    p.add_argument("--dir", default=None, help="where to write them (default: $PACELINE_CREDENTIALS or "
                   "/etc/paceline/credentials)")
    p.add_argument("--force", action="store_true", help="replace existing credentials")
    p.add_argument("--if-missing", action="store_true",
                   help="do nothing (and succeed) when the directory already holds credentials: a deployment's "
                        "first-boot step")
    return p


def main(argv: list[str]) -> int:
    import os

    from paceline.shared.credentials import DEFAULT_DIR, MANIFEST, CredentialError, keygen

    args = parser().parse_args(argv)
    nodes: dict[str, list[str]] = {n.strip(): [] for n in args.nodes.split(",") if n.strip()}
    for item in args.address:
        node, sep, address = item.partition("=")
        if not sep or node not in nodes or not address:
            print(f"paceline keygen: --address {item!r}: expected NODE=ADDR with NODE one of --nodes", file=sys.stderr)
            return 1
        nodes[node].append(address)
    directory = Path(args.dir or os.environ.get("PACELINE_CREDENTIALS") or DEFAULT_DIR)
    if args.if_missing and (directory / MANIFEST).exists():
        print(f"{directory} already holds credentials; left as they are")
        return 0
    try:
        written = keygen(directory, args.cluster, nodes, force=args.force)
    except (CredentialError, ValueError) as exc:
        print(f"paceline keygen: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"paceline keygen: cannot write {directory}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    users = sorted(p.stem for p in written if p.suffix == ".nk")
    print(f"wrote the credentials of cluster {args.cluster!r} to {directory}: a CA, a bus server certificate per "
          f"node, and the nkeys of {len(users)} users ({', '.join(users)})")
    print(f"copy {directory} to every node; point PACELINE_CREDENTIALS at it")
    return 0


def command(opts: Options, args: list[str]) -> int:
    opts.one_shot = True
    return main(args)
