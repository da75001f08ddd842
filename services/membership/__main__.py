"""``python -m paceline.membership`` / ``paceline-membership``: one process per node."""

from __future__ import annotations

from paceline.membership.service import run
from paceline.shared.runtime import service_main


def main(argv: list[str] | None = None) -> int:
    return service_main("membership", run, argv, needs_node=True)


if __name__ == "__main__":
    raise SystemExit(main())
