"""``python -m paceline.cib_store`` / ``paceline-cib-store``."""

from __future__ import annotations

import sys

from paceline.cib_store.service import run
from paceline.shared.runtime import service_main


def main(argv: list[str] | None = None) -> int:
    return service_main("cib-store", run, argv)


if __name__ == "__main__":
    sys.exit(main())
