"""Layers point one way (docs/architecture.md): a test per rule, read from the
import statements of every module, so an import that runs up the layers fails
here before it ships."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "backdrop"

# package (or module) → the backdrop packages it must never import
FORBIDDEN = {
    "backdrop.core": ("transformers", "web", "read", "write", "admin", "cli", "command_line"),
    "backdrop.web": ("transformers", "read", "write", "admin", "cli", "command_line"),
    "backdrop.transformers.builtin": ("transformers.dispatch", "web", "read", "write", "admin"),
    "backdrop.transformers": ("web", "read", "write", "admin"),
    "backdrop.read": ("transformers", "write", "admin", "cli", "command_line"),
    "backdrop.write": ("read", "admin", "cli", "command_line"),
    "backdrop.admin": ("write", "cli", "command_line"),
    "backdrop.errors": ("core", "web", "read", "write", "admin", "transformers", "settings"),
    "backdrop.settings": ("core", "web", "read", "write", "admin", "transformers"),
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            if node.module == "backdrop":  # from backdrop import core
                names.update(f"backdrop.{alias.name}" for alias in node.names)
    return {name for name in names if name.startswith("backdrop.")}


def _rule_for(module: str) -> tuple[str, tuple[str, ...]] | None:
    matches = [
        prefix for prefix in FORBIDDEN if module == prefix or module.startswith(prefix + ".")
    ]
    if not matches:
        return None
    prefix = max(matches, key=len)
    return prefix, FORBIDDEN[prefix]


def _violations() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        rule = _rule_for(module)
        if rule is None:
            continue
        prefix, forbidden = rule
        for name in sorted(_imports(path)):
            for target in forbidden:
                target = f"backdrop.{target}"
                if name == target or name.startswith(target + "."):
                    found.append(f"{module} imports {name} ({prefix} must not import {target})")
    return found


def test_no_module_imports_up_the_layers():
    assert _violations() == []


def test_the_check_sees_a_violation(tmp_path, monkeypatch):
    """The rule table is live: a core module importing the web layer is caught."""
    fake = tmp_path / "backdrop"
    (fake / "core").mkdir(parents=True)
    (fake / "core" / "bad.py").write_text("from backdrop.web.app import base_app\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", fake)
    assert _violations() == [
        "backdrop.core.bad imports backdrop.web.app (backdrop.core must not import backdrop.web)"
    ]


@pytest.mark.parametrize("module", ["backdrop.read", "backdrop.core.reading", "backdrop.web.app"])
def test_reading_never_loads_celery(module):
    code = f"import {module}, sys; print('celery' in sys.modules, 'kombu' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
