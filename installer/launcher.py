"""The frozen app's entry point: the same ``main`` as the ``connector`` console script."""

from __future__ import annotations

import sys

from agent.cli import main

if __name__ == "__main__":
    sys.exit(main())
