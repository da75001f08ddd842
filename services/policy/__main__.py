"""``python -m paceline.policy`` / ``paceline-policy``."""

from __future__ import annotations

import sys

from paceline.shared.runtime import service_main


def main(argv: list[str] | None = None) -> int:
    from paceline.policy.service import run

    return service_main("policy", run, argv)


if __name__ == "__main__":
    sys.exit(main())
