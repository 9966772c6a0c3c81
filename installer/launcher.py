"""The frozen app's entry point: the same ``main`` as the ``connector`` console script
(``connector/launch.py``)."""

from __future__ import annotations

import sys

from connector.launch import main

if __name__ == "__main__":
    sys.exit(main())
