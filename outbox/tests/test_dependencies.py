"""The outbox is infrastructure: domain apps call it, it imports none of them (STYLE.md)."""

import ast
from pathlib import Path

from django.apps import apps
from django.conf import settings

OUTBOX = Path(__file__).resolve().parent.parent


def _imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
    return modules


def _outbox_code() -> list[Path]:
    """The outbox's own code: not its tests, which build alliances and accounts to mail."""
    return [path for path in OUTBOX.rglob("*.py") if "tests" not in path.relative_to(OUTBOX).parts]


def test_the_outbox_imports_no_domain_app():
    # Every app of this project (not Django's or a library's) other than the outbox itself.
    domain_apps = {
        config.name
        for config in apps.get_app_configs()
        if Path(config.path).parent == Path(settings.BASE_DIR) and config.name != "outbox"
    }
    offenders = {
        f"{path.relative_to(OUTBOX)} imports {module}"
        for path in _outbox_code()
        for module in _imported_modules(path)
        if module.split(".")[0] in domain_apps
    }

    assert {"accounts", "alliances"} <= domain_apps
    assert offenders == set()


def test_the_outbox_models_point_at_no_domain_app():
    outbox_models = apps.get_app_config("outbox").get_models()
    targets = {
        field.related_model._meta.app_label
        for model in outbox_models
        for field in model._meta.get_fields()
        if field.is_relation and field.related_model is not None
    }

    # The user model is the project's setting, not a domain app.
    assert targets <= {"outbox", apps.get_model(settings.AUTH_USER_MODEL)._meta.app_label}


def test_services_and_jobs_do_not_import_each_other():
    assert "outbox.jobs" not in _imported_modules(OUTBOX / "services.py")
    assert not any(
        isinstance(node, ast.ImportFrom) and node.module == "outbox" and any(a.name == "jobs" for a in node.names)
        for node in ast.walk(ast.parse((OUTBOX / "services.py").read_text()))
    )
