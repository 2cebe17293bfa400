"""The dependency rules of docs/architecture.md, checked on the source (ast: nothing is imported).

A failure names the module and the import that breaks a rule; the page says why the rule exists.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "gateway"

# Neither the services nor the domain may reach the web framework, the SQL toolkit, the entry
# points or the settings: they are given what they need (ports) by the composition root.
FRAMEWORKS = ("fastapi", "starlette", "uvicorn", "sqlalchemy", "alembic", "click")
ENTRY_POINTS = (
    "gateway.transport",
    "gateway.cli",
    "gateway.console",
    "gateway.devtools",
    "gateway.bootstrap",
    "gateway.config",
    "gateway.problem",
)
# the rows services exchange with the store are gateway.services.records; the store itself (SQL,
# repositories) comes through a port only
SERVICE_FORBIDDEN = (*FRAMEWORKS, *ENTRY_POINTS, "gateway.store", "gateway.infra")
DOMAIN_FORBIDDEN = (
    *FRAMEWORKS,
    *ENTRY_POINTS,
    "gateway.store",
    "gateway.archive",
    "gateway.services",
    "gateway.infra",
)
DOMAIN_PACKAGES = ("domain", "adapters", "canonical", "sepa", "payments")

# Known exceptions, each with its reason (none today: the intake's worker pool, which guards its
# processes with gateway.infra.orphans, lives in gateway/infra/intake_pool.py).
ALLOWED: set[tuple[str, str]] = set()


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> Iterator[tuple[str, tuple[str, ...]]]:
    """Each imported module with the names taken from it (empty for `import x`), type-only
    imports included: a dependency in a signature is still a dependency."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, ()
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module is not None:
            yield node.module, tuple(alias.name for alias in node.names)


def _modules(*packages: str) -> list[Path]:
    return sorted(p for package in packages for p in (PACKAGE / package).rglob("*.py"))


def _breaks(module: str, imported: str, forbidden: tuple[str, ...]) -> bool:
    if (module, imported) in ALLOWED:
        return False
    return any(imported == f or imported.startswith(f + ".") for f in forbidden)


def module_violations(module: str, path: Path, forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for imported, _names in _imports(path):
        if _breaks(module, imported, forbidden):
            found.append(f"{module} imports {imported}")
    return found


def violations(paths: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    return [line for path in paths for line in module_violations(_module_name(path), path, forbidden)]


def test_services_import_no_framework_no_sql_store_no_entry_point() -> None:
    paths = _modules("services")
    assert len(paths) > 10
    assert violations(paths, SERVICE_FORBIDDEN) == []


@pytest.mark.parametrize("package", DOMAIN_PACKAGES)
def test_the_domain_and_formats_import_no_layer_above_them(package: str) -> None:
    assert violations(_modules(package), DOMAIN_FORBIDDEN) == []


def test_the_check_names_each_forbidden_import(tmp_path: Path) -> None:
    # the walker itself: imports at any depth, type-only ones included, repository classes too
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from fastapi import APIRouter\n"
        "import sqlalchemy.orm\n"
        "from gateway.store.payments import SqlPayments, DebitRow\n"
        "from gateway.storefront import x\n"
        "def f():\n"
        "    from gateway.store.sql import SqlStore\n",
        encoding="utf-8",
    )
    assert module_violations("gateway.services.probe", probe, SERVICE_FORBIDDEN) == [
        "gateway.services.probe imports fastapi",
        "gateway.services.probe imports sqlalchemy.orm",
        "gateway.services.probe imports gateway.store.payments",
        "gateway.services.probe imports gateway.store.sql",
    ]


# The HTTP edge mounts routes on services the composition root built (gateway.bootstrap): it
# constructs no service (of gateway.services or the console's) and reaches no SQL repository.
TRANSPORT_FORBIDDEN = ("gateway.store", "sqlalchemy", "alembic")
BUILT_BY_THE_ROOT = ("gateway.services", "gateway.console")


def constructions(module: str, path: Path, sources: tuple[str, ...]) -> list[str]:
    """The classes (CapWords names) imported from `sources` that the module calls: the objects it
    builds itself. Exceptions (gateway.errors) and the transport's own classes are not counted."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    imported = {
        alias.asname or alias.name: node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module is not None
        for alias in node.names
        if any(node.module == s or node.module.startswith(s + ".") for s in sources)
    }
    return sorted(
        f"{module} builds {imported[node.func.id]}.{node.func.id}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in imported
        and node.func.id[:1].isupper()
    )


def test_the_http_edge_reaches_no_sql_and_builds_no_service() -> None:
    paths = _modules("transport")
    assert violations(paths, TRANSPORT_FORBIDDEN) == []
    assert [
        line for path in paths for line in constructions(_module_name(path), path, BUILT_BY_THE_ROOT)
    ] == []


def test_the_construction_check_names_the_class_built(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from gateway.services.feed import EventFeed\n"
        "from gateway.console import ConsoleServices, csrf_key_from\n"
        "from gateway.errors import NotFound\n"
        "feed = EventFeed(store)\nkey = csrf_key_from(path)\nConsoleServices(store=store)\n"
        "raise NotFound('x')\n",
        encoding="utf-8",
    )
    assert constructions("probe", probe, BUILT_BY_THE_ROOT) == [
        "probe builds gateway.console.ConsoleServices",
        "probe builds gateway.services.feed.EventFeed",
    ]


# Settings are read once per process, by an entry point: the command group (each command asks
# gateway.cli.current_settings), and the demo, which writes its own for its temporary folder.
READS_SETTINGS = {"gateway.cli"}
# Who may know the settings' type at all: the entry points and the composition root, and the one
# helper that turns the webhook settings into a worker for it.
KNOWS_SETTINGS = {
    "gateway.bootstrap",
    "gateway.cli",
    "gateway.cli.deliveries",
    "gateway.cli.serve",
    "gateway.devtools.demo",
    "gateway.infra.delivery",
    "gateway.transport.http.wiring",
    "gateway.transport.http.identity",  # CertificateRoleRule: the type of one setting, not Settings
}


def _settings_reads(path: Path) -> int:
    """How many `Settings()` calls (no arguments: from the environment) the module makes."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return sum(
        1
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name | ast.Attribute)
        and (node.func.id if isinstance(node.func, ast.Name) else node.func.attr) == "Settings"
        and not node.args
        and not node.keywords
    )


def test_settings_are_read_from_the_environment_by_the_entry_points_only() -> None:
    reads = {_module_name(p): n for p in PACKAGE.rglob("*.py") if (n := _settings_reads(p))}
    assert set(reads) == READS_SETTINGS, reads


def test_only_entry_points_and_the_composition_root_know_the_settings() -> None:
    knowing = {
        _module_name(p)
        for p in PACKAGE.rglob("*.py")
        if any(imported == "gateway.config" for imported, _ in _imports(p))
    }
    assert knowing <= KNOWS_SETTINGS, sorted(knowing - KNOWS_SETTINGS)


def test_the_settings_check_counts_calls_without_arguments_only(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "s = Settings()\nt = config.Settings()\nu = Settings(data_dir=x)\nv = Settings(**k)\n",
        encoding="utf-8",
    )
    assert _settings_reads(probe) == 2
