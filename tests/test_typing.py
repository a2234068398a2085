"""Type annotations: mypy is clean on every module of the three packages, and py.typed ships.

- ``python -m mypy`` with the project's configuration (``[tool.mypy]`` in pyproject.toml: every
  function of the listed modules annotated, bodies checked) reports no error; skipped where mypy
  is not installed, except under ``RSA_MIRROR_REQUIRE_MYPY=1`` (``.ci/run``), where that fails;
- every module of the three packages is checked (``files``), none has its errors ignored, so a
  new module cannot go unchecked;
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


def test_every_module_is_type_checked():
    config = _mypy_config()
    checked = [ROOT / entry for entry in config["files"]]
    assert all(path.exists() for path in checked), [str(p) for p in checked if not p.exists()]
    ignored = [override["module"] for override in config.get("overrides", []) if override.get("ignore_errors")]
    assert ignored == [], f"modules whose type errors are ignored: {ignored}"
    unchecked = [
        _module_name(file)
        for package in PACKAGES
        for file in sorted((ROOT / package).rglob("*.py"))
        if not any(file == path or path in file.parents for path in checked)
    ]
    assert not unchecked, f"modules mypy does not check: {unchecked}"


def test_py_typed_ships_with_every_package():
    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg")
    package_data = parser["options.package_data"]
    for package in PACKAGES:
        assert (ROOT / package / "py.typed").is_file(), package
        patterns = [p.strip() for p in package_data.get(package, "").replace("\n", ",").split(",") if p.strip()]
        assert any(fnmatch.fnmatchcase("py.typed", p) for p in patterns), (package, patterns)
