"""The emulator's shape, checked: its own rules (nothing imported from the client), backends free of HTTP
frameworks, one backend/responses/urls per API family, and the import paths tests and users rely on."""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

import airflow_provider_tealium.testing.emulator as emulator_package
from airflow_provider_tealium.testing.emulator import app

PACKAGE = Path(emulator_package.__file__).parent
PREFIX = "airflow_provider_tealium.testing.emulator"
FAMILIES = ("auth", "control", "datalayers", "iqm", "profiles", "revisions")
# The client and Airflow: a rule read from there would pass on both sides however wrong it is.
FORBIDDEN = ("airflow", "airflow_provider_tealium")


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_the_client_or_airflow(path: Path) -> None:
    foreign = {
        name
        for name in imported(path)
        if name.split(".")[0] in FORBIDDEN and not (name == PREFIX or name.startswith(PREFIX + "."))
    }
    assert not foreign, f"{path.name} imports {sorted(foreign)}: the emulator's rules must be its own"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_module_is_small(path: Path) -> None:
    assert len(path.read_text().splitlines()) < 400


def test_backends_and_rules_load_no_http_framework() -> None:
    names = [f"{PREFIX}.{family}.{part}" for family in FAMILIES for part in ("backend", "rules", "models")]
    names = [n for n in names if (PACKAGE / Path(*n.split(".")[3:])).with_suffix(".py").exists()]
    snippet = (
        "import importlib, json, sys\n"
        "for name in sys.argv[1:]:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    proc = subprocess.run([sys.executable, "-c", snippet, *names], capture_output=True, text=True, check=True)
    loaded = set(json.loads(proc.stdout))
    assert len(names) >= 10
    assert not loaded & {"starlette", "uvicorn", "airflow"}, sorted(
        loaded & {"starlette", "uvicorn", "airflow"}
    )


@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_has_a_backend_thin_responses_and_a_url_table(family: str) -> None:
    urls = importlib.import_module(f"{PREFIX}.{family}.urls")
    responses = importlib.import_module(f"{PREFIX}.{family}.responses")
    importlib.import_module(f"{PREFIX}.{family}.backend")
    assert urls in app.ROUTE_MODULES
    tables = [value for name, value in vars(urls).items() if name.endswith("URLS")]
    handlers = [
        cls
        for cls in vars(responses).values()
        if isinstance(cls, type) and cls.__name__.endswith("Responses")
    ]
    assert tables and handlers
    for method, path, name in (row for table in tables for row in table):
        assert method in {"GET", "POST", "PUT", "PATCH", "DELETE"} and path.startswith("/")
        assert any(callable(getattr(cls, name, None)) for cls in handlers), f"{family}: no handler {name}"


@pytest.mark.parametrize(
    ("old", "new", "name"),
    [
        ("routes_profiles", "profiles.backend", "store"),
        ("routes_profiles", "profiles.backend", "ProfilesStore"),
        ("routes_profiles", "profiles.seed", "INITIAL_VERSION"),
        ("routes_datalayers", "datalayers.backend", "store"),
        ("routes_iqm", "iqm.backend", "iqm_state"),
        ("routes_iqm", "iqm.backend", "DEFAULT_CLIENT_ID"),
        ("routes_iqm", "iqm.reports", "report_rows"),
        ("routes_auth", "auth.backend", "v1_sessions"),
        ("routes_revisions", "revisions_store", "configure_revisions"),
        ("revisions_store", "revisions.backend", "store"),
    ],
)
def test_the_documented_import_paths_still_work(old: str, new: str, name: str) -> None:
    kept = importlib.import_module(f"{PREFIX}.{old}")
    home = importlib.import_module(f"{PREFIX}.{new}")
    assert getattr(kept, name) is getattr(home, name)
