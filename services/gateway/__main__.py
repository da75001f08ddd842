"""``python -m paceline.gateway`` / ``paceline-gateway``."""

from __future__ import annotations

import sys

from paceline.shared.runtime import service_main


def main(argv: list[str] | None = None) -> int:
    from paceline.gateway.service import run

    return service_main("gateway", run, argv)


if __name__ == "__main__":
    sys.exit(main())
