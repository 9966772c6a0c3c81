"""``python -m connector``: the same as the ``connector`` command."""

from __future__ import annotations

import sys

from connector.launch import main

if __name__ == "__main__":
    sys.exit(main())
