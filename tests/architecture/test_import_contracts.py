"""The import contracts hold for the project, and they do bite: a synthetic app that reaches
into another app's models, imports an app its contract does not name (an `events` module
included), or imports up its own layers breaks them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=cwd, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(cwd)}, timeout=120,
                          check=False)


def test_project_keeps_its_import_contracts() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout
    assert "0 broken" in result.stdout


def write(path: Path, text: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def synthetic_project(root: Path) -> None:
    """Empty apps and the project's own contracts."""
    shutil.copy(ROOT / ".importlinter", root / ".importlinter")
    for package in ["oms", "config", "apps"]:
        write(root / package / "__init__.py")
    for app in ["orders", "risk", "marketdata", "processing", "accounts", "audit", "demo"]:
        for module in ["__init__.py", "models.py", "services.py", "selectors.py", "events.py",
                       "domain/__init__.py", "api/__init__.py"]:
            write(root / "apps" / app / module)
    # The baseline of the layers contract (it alerts on an entry that no longer matches).
    write(root / "apps" / "orders" / "api" / "serializers.py")
    write(root / "apps" / "orders" / "services.py", "from apps.orders.api import serializers\n")


def test_reaching_into_another_apps_models_breaks_a_contract(tmp_path: Path) -> None:
    synthetic_project(tmp_path)
    write(tmp_path / "apps" / "risk" / "services.py", "from apps.orders import services\n")
    assert lint_imports(tmp_path).returncode == 0  # through the public face: allowed

    write(tmp_path / "apps" / "risk" / "services.py", "from apps.orders.models import *\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "Apps import one another only through services, selectors and events BROKEN" in (
        result.stdout
    )


def test_calling_upstream_breaks_the_context_map(tmp_path: Path) -> None:
    synthetic_project(tmp_path)
    write(tmp_path / "apps" / "processing" / "services.py", "from apps.risk import services\n")
    assert lint_imports(tmp_path).returncode == 0  # processing -> risk: on the map

    write(tmp_path / "apps" / "risk" / "services.py", "from apps.processing import services\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "risk imports only accounts, marketdata, orders, processing (events only) BROKEN" \
        in result.stdout


def test_an_events_import_counts_like_any_other(tmp_path: Path) -> None:
    synthetic_project(tmp_path)
    write(tmp_path / "apps" / "orders" / "selectors.py", "from apps.processing import events\n")
    assert lint_imports(tmp_path).returncode == 0  # orders learns from executions

    write(tmp_path / "apps" / "audit" / "services.py", "from apps.orders import events\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "audit imports only no other app BROKEN" in result.stdout


def test_an_edge_allowed_for_events_only_allows_nothing_else(tmp_path: Path) -> None:
    synthetic_project(tmp_path)
    write(tmp_path / "apps" / "orders" / "selectors.py",
          "from apps.processing import selectors\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "orders imports only accounts, processing (events only) BROKEN" in result.stdout


def test_importing_up_an_apps_layers_breaks_them(tmp_path: Path) -> None:
    synthetic_project(tmp_path)
    write(tmp_path / "apps" / "risk" / "api" / "views.py", "from apps.risk import services\n")
    assert lint_imports(tmp_path).returncode == 0  # api -> services: down

    write(tmp_path / "apps" / "risk" / "selectors.py", "from apps.risk import services\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "never back up BROKEN" in result.stdout


def test_django_in_a_domain_package_breaks_its_purity(tmp_path: Path) -> None:
    synthetic_project(tmp_path)
    write(tmp_path / "apps" / "risk" / "domain" / "__init__.py", "import django\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "Domain packages (engines, state machines, rules) are pure Python BROKEN" in (
        result.stdout
    )
