"""Where the suite finds the project's own files: the repository root and the sample books."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The books resources/sample-books/generate.py writes with the real engine, one per format.
SAMPLE_BOOKS = {
    "sqlite": ROOT / "resources" / "sample-books" / "sample.gnucash",
    "xml-gzip": ROOT / "resources" / "sample-books" / "sample-xml.gnucash",
}
