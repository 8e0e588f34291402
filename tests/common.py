"""Paths and small helpers shared by the whole test suite."""

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
#: Public example files and official schemas (see their PROVENANCE.md files).
SHARED_DATA = Path(os.environ.get("HEEROS_LINK_SHARED_DATA", REPO.parent / "shared" / "data"))
#: Example files shipped with this repository's tests.
TEST_DATA = REPO / "tests" / "data"
