"""Paths and small helpers shared by the whole test suite."""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
#: Public example files and official schemas (see their PROVENANCE.md files).
SHARED_DATA = Path(os.environ.get("HEEROS_LINK_SHARED_DATA", REPO.parent / "shared" / "data"))
#: Example files shipped with this repository's tests.
TEST_DATA = REPO / "tests" / "data"

_FOLDER_ROOT = []


def link_folder(env, prefix="heeros-link-test-"):
    """A new folder for a local-folder connection, inside the folder root the
    Link allows: one temporary root for the test run, set as the system
    parameter ``heeros_link.local_folder_root`` in the test's transaction."""
    if not _FOLDER_ROOT:
        root = tempfile.mkdtemp(prefix="heeros-link-folders-")
        atexit.register(shutil.rmtree, root, True)
        _FOLDER_ROOT.append(root)
    env["ir.config_parameter"].sudo().set_param("heeros_link.local_folder_root", _FOLDER_ROOT[0])
    return tempfile.mkdtemp(prefix=prefix, dir=_FOLDER_ROOT[0])
