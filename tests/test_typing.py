"""Type annotations: mypy is clean on the annotated modules, every module is accounted for, py.typed ships.

- ``python -m mypy`` with the project's configuration (``[tool.mypy]`` in pyproject.toml: every
  function of the listed modules annotated, bodies checked) reports no error; skipped where mypy
  is not installed, except under ``RSA_MIRROR_REQUIRE_MYPY=1`` (``.ci/run``), where that fails;
- every module of the three packages is either checked (``files``) or listed as not annotated
  yet (the ``ignore_errors`` override), so a new module cannot go unchecked unnoticed;
- the PEP 561 marker ``py.typed`` is in each package and in ``package_data`` (so wheels carry it).
"""

import configparser
import fnmatch
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
PACKAGES = ("rsa_mirror", "neural_data", "matlab_bridge")


def _mypy_config():
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]


def _module_name(file):
    parts = file.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@pytest.mark.slow
def test_mypy_is_clean_on_the_annotated_modules():
    if importlib.util.find_spec("mypy") is None:
        if os.environ.get("RSA_MIRROR_REQUIRE_MYPY") == "1":
            pytest.fail("RSA_MIRROR_REQUIRE_MYPY=1 but mypy is not installed (pip install rsa_mirror[test])")
        pytest.skip("mypy is not installed (pip install rsa_mirror[test])")
    # Cold, mypy reads the annotations of numpy, rsatoolbox and torch (20-45 s of CPU time);
    # its cache (.mypy_cache) makes later runs take seconds.
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary", "--hide-error-context"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=900,
    )
    assert done.returncode == 0, f"mypy found errors:\n{done.stdout}{done.stderr}"
    assert done.stdout.strip() == "", done.stdout


def test_every_module_is_checked_or_listed_as_not_annotated_yet():
    config = _mypy_config()
    checked = [ROOT / entry for entry in config["files"]]
    assert all(path.exists() for path in checked), [str(p) for p in checked if not p.exists()]
    ignored = [
        pattern
        for override in config.get("overrides", [])
        if override.get("ignore_errors")
        for pattern in ([override["module"]] if isinstance(override["module"], str) else override["module"])
    ]
    unaccounted, both = [], []
    for package in PACKAGES:
        for file in sorted((ROOT / package).rglob("*.py")):
            is_checked = any(file == path or path in file.parents for path in checked)
            name = _module_name(file)
            is_ignored = any(fnmatch.fnmatchcase(name, p) or name == p.removesuffix(".*") for p in ignored)
            if not is_checked and not is_ignored:
                unaccounted.append(name)
            if is_checked and is_ignored:
                both.append(name)
    assert not unaccounted, f"modules neither type-checked nor listed as not annotated yet: {unaccounted}"
    assert not both, f"modules both in [tool.mypy] files and in the ignore_errors override: {both}"
    # the modules annotated so far stay checked
    for name in ("rsa_mirror._utils", "rsa_mirror.inference", "rsa_mirror.stimuli.base", "neural_data.io"):
        file = ROOT / (name.replace(".", "/") + ".py")
        assert any(file == path or path in file.parents for path in checked), name


def test_py_typed_ships_with_every_package():
    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg")
    package_data = parser["options.package_data"]
    for package in PACKAGES:
        assert (ROOT / package / "py.typed").is_file(), package
        patterns = [p.strip() for p in package_data.get(package, "").replace("\n", ",").split(",") if p.strip()]
        assert any(fnmatch.fnmatchcase("py.typed", p) for p in patterns), (package, patterns)
