"""The code base passes ruff (ruff.toml) and pylint with the pylint-odoo
plugin (.pylintrc), with the project's configurations."""

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
    result = subprocess.run(
        [*command, "check", "--output-format", "concise", str(REPO)],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_pylint_odoo_passes():
    pytest.importorskip("pylint_odoo", reason="pylint-odoo is not installed (it is in requirements.txt)")
    addons = sorted(path.name for path in REPO.glob("heeros_link_*") if (path / "__manifest__.py").exists())
    assert len(addons) == 4, addons
    result = subprocess.run(
        [sys.executable, "-m", "pylint", "--rcfile", str(REPO / ".pylintrc"), *addons],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_translatable_terms_can_be_extracted():
    """Odoo's term export reads every ``_()`` call with babel, which evaluates
    the arguments it meets as literals: an f-string among them makes the
    export of the whole file fail."""
    from babel.messages import extract

    failures = []
    for path in sorted(REPO.glob("heeros_link_*/**/*.py")):
        with path.open("rb") as source:
            try:
                terms = [
                    message
                    for _line, message, _comments, _context in extract.extract(
                        "python", source, keywords={"_": None, "_lt": None}
                    )
                ]
            except Exception as error:
                failures.append(f"{path.relative_to(REPO)}: {type(error).__name__}: {error}")
                continue
        assert all(isinstance(term, str | tuple) for term in terms), path
    assert not failures, "\n".join(failures)
