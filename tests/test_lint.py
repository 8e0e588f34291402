"""The code base passes ruff with the project's configuration (ruff.toml)."""

import shutil
import subprocess
import sys

import pytest

from tests.common import REPO


def test_ruff_passes():
    try:
        import ruff  # noqa: F401

        command = [sys.executable, "-m", "ruff"]
    except ImportError:
        if not shutil.which("ruff"):
            pytest.skip("ruff is not installed (it is in requirements.txt)")
        command = [shutil.which("ruff")]
    result = subprocess.run([*command, "check", "--output-format", "concise", str(REPO)],
                            capture_output=True, text=True, check=False, cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
