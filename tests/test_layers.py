"""The house drawing: each top-level package imports only from the floors below it.

    assets      the ground floor: expression code, artifact formats, errors, landmark tables,
                mesh/audio helpers both sides share (numpy only at import)
    scenes      memorial room specs and the code that builds them (Panda3D geometry, textures)
    generation  offline work and the vault; its `cli` and `demo` sit on top of everything
    vr_app      the Panda3D runtime: rig, displays, rooms, sessions (reads the vault, never torch)
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("assets", "scenes", "generation", "vr_app")
# What each package (or sub-package) may import from the project; anything else is an arrow pointing up.
ALLOWED = {
    "assets": {"assets"},
    "scenes": {"assets", "scenes"},
    "generation": {"assets", "scenes", "generation"},
    "vr_app": {"assets", "scenes", "generation", "vr_app"},
    "generation.cli": set(PACKAGES),  # the command line sits on top
    "generation.demo": set(PACKAGES),
}
# Sibling areas that must stay apart: provenance labels any media, it knows nothing of speech.
APART = (("generation.provenance", "generation.speech"),)
TORCH_FREE = ("assets", "scenes", "vr_app")  # the runtime must run without torch


def _module_name(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, root: Path = ROOT) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    module = _module_name(path, root)
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names if not node.module or node.level)
    return found


def _rule(module: str) -> set[str]:
    best = max((k for k in ALLOWED if module == k or module.startswith(k + ".")), key=len)
    return ALLOWED[best]


def _all_modules():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield _module_name(path), _imports(path)


def test_no_arrow_points_up():
    wrong = []
    for module, imports in _all_modules():
        allowed = _rule(module)
        for target in imports:
            top = target.split(".")[0]
            if top in PACKAGES and top not in allowed:
                wrong.append(f"{module} imports {target}")
            wrong += [f"{module} imports {target}" for low, other in APART
                      if module.startswith(low) and target.startswith(other)]
    assert not wrong, "\n".join(sorted(wrong))


def test_the_runtime_never_imports_torch():
    wrong = [f"{module} imports {t}" for module, imports in _all_modules() if module.startswith(TORCH_FREE)
             for t in imports if t.split(".")[0] == "torch"]
    assert not wrong, "\n".join(wrong)


def test_the_checker_sees_an_upward_arrow(tmp_path):
    probe = tmp_path / "assets" / "probe.py"
    probe.parent.mkdir()
    probe.write_text("from generation.vault import open_vault\nfrom . import expression\n")
    found = _imports(probe, tmp_path)
    assert {"generation.vault", "assets.expression"} <= found
    assert "generation" not in _rule("assets.probe")
