"""``make demo``: the two-node web-service story against a fresh lab, every step checked."""

import sys

from paceline.lab.story import main

if __name__ == "__main__":
    sys.exit(main())
