"""The tooling does not silently skip work: every test file runs, and models match their migrations."""

import fnmatch
import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

REPO = Path(settings.BASE_DIR)


def _is_collected(path: Path, pytestconfig: pytest.Config) -> bool:
    """Whether pytest, run from the repository root with no arguments, would collect this test file."""
    relative = path.relative_to(REPO)
    testpaths = pytestconfig.getini("testpaths")
    if testpaths and not any(relative.parts[: len(Path(p).parts)] == Path(p).parts for p in testpaths):
        return False
    skipped = pytestconfig.getini("norecursedirs")
    folders = relative.parts[:-1]
    return not any(fnmatch.fnmatch(folder, pattern) for folder in folders for pattern in skipped)


def test_a_new_apps_tests_run_without_editing_the_configuration(pytestconfig):
    # meetings/ and tasks/ come next; listing test folders by name would leave theirs out unnoticed.
    assert _is_collected(REPO / "meetings" / "tests" / "test_models.py", pytestconfig)
    assert _is_collected(REPO / "tasks" / "tests" / "test_views.py", pytestconfig)


def test_every_test_file_in_the_repository_is_collected(pytestconfig):
    test_files = [
        path
        for path in REPO.rglob("test_*.py")
        if not {".venv", "var", "node_modules", ".git"} & set(path.relative_to(REPO).parts)
    ]

    assert len(test_files) > 20
    assert [path for path in test_files if not _is_collected(path, pytestconfig)] == []


@pytest.mark.django_db
def test_the_models_need_no_new_migration():
    # CI runs `makemigrations --check` too; this catches it on a developer's machine first.
    out = io.StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out)
    except SystemExit as exit_:
        pytest.fail(f"A model changed without its migration:\n{out.getvalue()} (exit {exit_.code})")
