"""Packaging: the core works without the [models] extra, and the package's shape holds.

- the core path (recordings -> RDMs -> bootstrap -> .mat) runs in a process where torch,
  torchvision, numba and shap cannot be imported (``check_core.py``; ``.ci/run`` runs the same
  script in a fresh virtual environment with the core install only);
- no import cycle between the package's modules (every import counted, also those inside
  functions and the lazily exported names);
- no library module over 450 lines;
- every ``__init__`` exports its names explicitly: ``__all__`` resolves, nothing else leaks.
"""

import ast
import importlib
import subprocess
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
PACKAGES = ("rsa_mirror", "neural_data", "matlab_bridge")
BLOCKED = ("torch", "torchvision", "numba", "shap")
MAX_LINES = 450

BLOCKER = f"""
import importlib.abc, runpy, sys
class Blocked(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in {BLOCKED!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
sys.meta_path.insert(0, Blocked())
runpy.run_path({str(ROOT / "tests" / "check_core.py")!r}, run_name="__main__")
"""


def test_the_core_runs_without_torch_torchvision_numba_and_shap():
    done = subprocess.run([sys.executable, "-c", BLOCKER], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr + done.stdout
    assert "core install: ok" in done.stdout


def test_a_torch_backed_name_says_how_to_install_the_extra():
    code = BLOCKER.replace("runpy.run_path", "print(repr(__import__('rsa_mirror').StimulusSet)) or (lambda *a, **k: 0)")
    code += "\nimport numpy as np, rsa_mirror\ntry:\n    rsa_mirror.StimulusSet(np.zeros((1, 4, 4))).to_tensor()\n"
    code += "except ImportError as error:\n    print(error)\n"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "needs torch, which is not installed: pip install rsa_mirror[models]" in done.stdout


def _modules():
    """Module name -> file of every module of the three packages."""
    found = {}
    for package in PACKAGES:
        for file in sorted((ROOT / package).rglob("*.py")):
            parts = file.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = file
    return found


def _imports(name, file, modules):
    """The package modules ``name`` imports: every import statement and every lazily exported name."""
    package = name if file.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(file.read_text())
    targets = set()

    def resolve(module, level):
        if level:
            base = package.split(".")
            base = base[: len(base) - level + 1]
            module = ".".join([*base, module] if module else base)
        return module

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = resolve(node.module, node.level)
            for alias in node.names:  # "from . import x" names a module when x is one
                targets.add(f"{module}.{alias.name}" if f"{module}.{alias.name}" in modules else module)
        elif isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "_LAZY" for t in node.targets):
            for value in node.value.values:
                targets.add(resolve(value.value.lstrip("."), len(value.value) - len(value.value.lstrip("."))))
    return {target for target in targets if target in modules and target != name}


def test_no_import_cycles():
    modules = _modules()
    graph = {name: _imports(name, file, modules) for name, file in modules.items()}
    assert graph["rsa_mirror.stimuli.objects"] >= {"rsa_mirror.stimuli.faces"}  # the walk sees imports
    assert "rsa_mirror.networks.activations" in graph["rsa_mirror"]  # and the lazy names
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                cycle = stack[stack.index(target) :] + [target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)


def test_no_library_module_is_over_450_lines():
    long = {
        str(f.relative_to(ROOT)): n for f in _modules().values() if (n := len(f.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines: {long}"


@pytest.mark.parametrize(
    "package",
    ["rsa_mirror", "rsa_mirror.stimuli", "rsa_mirror.networks", "rsa_mirror.studies", "neural_data", "matlab_bridge"],
)
def test_init_files_export_their_names_explicitly(package):
    module = importlib.import_module(package)
    for name in module.__all__:
        assert getattr(module, name) is not None, name
    public = {name for name in vars(module) if not name.startswith("_")}
    submodules = {name for name in public if getattr(module, name).__class__.__name__ == "module"}
    leaked = public - set(module.__all__) - submodules - {"annotations"}
    assert not leaked, f"{package} exposes {sorted(leaked)} beyond __all__"
    assert "importlib" not in vars(module)


def test_an_exported_name_stays_itself_after_its_namesake_submodule_is_imported():
    # Importing a submodule sets it as an attribute of its package: a lazily exported function of
    # the same name would then read as the module (rsa_mirror.studies.figure4_grid did).
    clashes = []
    for init in sorted((ROOT / "rsa_mirror").rglob("__init__.py")):
        package = ".".join(init.parent.relative_to(ROOT).parts)
        exported = importlib.import_module(package).__all__
        for name in exported:
            if (init.parent / f"{name}.py").is_file() or (init.parent / name / "__init__.py").is_file():
                importlib.import_module(f"{package}.{name}")
                if isinstance(getattr(importlib.import_module(package), name), types.ModuleType):
                    clashes.append(f"{package}.{name}")
    assert clashes == [], clashes
