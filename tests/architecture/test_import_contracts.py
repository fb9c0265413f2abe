"""The import contracts hold for the project, and they do bite: a synthetic app that reaches
into another app's models breaks them."""

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
    for app in ["orders", "risk", "marketdata", "processing", "accounts", "audit"]:
        for module in ["__init__.py", "models.py", "services.py", "domain/__init__.py"]:
            write(root / "apps" / app / module)


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
    write(tmp_path / "apps" / "orders" / "services.py", "from apps.processing import services\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "processing -> risk -> marketdata -> orders BROKEN" in result.stdout


def test_django_in_a_domain_package_breaks_its_purity(tmp_path: Path) -> None:
    synthetic_project(tmp_path)
    write(tmp_path / "apps" / "risk" / "domain" / "__init__.py", "import django\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "Domain packages (engines, state machines, rules) are pure Python BROKEN" in (
        result.stdout
    )
