"""`make demo`'s script, run as a user would: it must end with the data types it reads Complete."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support.paths import ROOT


@pytest.mark.parametrize("book_format", ["sqlite", "xml"])
def test_the_demo_syncs_the_sample_book_to_complete(book_format: str) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "demo.py"), "--format", book_format],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    printed = result.stdout.split("dataStatus:\n", 1)[1].split("\n\nDataset timelines:", 1)[0]
    status = json.loads(printed)
    for data_type in ("chartOfAccounts", "customers", "suppliers", "invoices", "bills"):
        entry = status[data_type]
        assert entry["currentStatus"] == "Complete"
        assert entry["lastSuccessfulSync"]
        assert entry["latestSyncId"] == entry["latestSuccessfulSyncId"]
    assert "Queued" in result.stdout and "Processing" in result.stdout
