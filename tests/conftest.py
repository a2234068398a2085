"""Shared fixtures: headless plotting, figures closed after each test, seeded data, GNU Octave."""

import os
import shutil
import subprocess
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from neural_data import simulate_face_patches  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="session")
def simulated():
    """The default simulated recordings (seed 0): 25 identities x 5 views, MLMF/AL/AM."""
    return simulate_face_patches(random_state=0)


@pytest.fixture(scope="module")
def alexnet():
    """An untrained AlexNet (LeCun normal, seed 0)."""
    from rsa_mirror.networks.models import load_model

    return load_model("alexnet", weights="untrained", random_state=0)


MATLAB_DIR = Path(__file__).parent.parent / "matlab_bridge" / "matlab"


def _octave_runner():
    """Run Octave code (with the bridge's .m files on the path) in a folder; returns its stdout.

    Skips when ``octave-cli`` is missing, unless RSA_MIRROR_REQUIRE_OCTAVE=1 (set by .ci/run,
    which installs Octave), where a missing Octave fails the test.
    """
    program = shutil.which("octave-cli")
    if program is None:
        if os.environ.get("RSA_MIRROR_REQUIRE_OCTAVE") == "1":
            pytest.fail("octave-cli is required here (RSA_MIRROR_REQUIRE_OCTAVE=1) but not installed")
        pytest.skip("GNU Octave not installed: apt-get install -y --no-install-recommends octave to run these tests")

    def run(code, cwd, env=None, check=True):
        script = f"addpath('{MATLAB_DIR}'); {code}"
        done = subprocess.run(
            [program, "--norc", "--no-history", "--eval", script],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=240,
            env={**os.environ, **(env or {})},
        )
        if check:
            assert done.returncode == 0, done.stderr + done.stdout
        return done.stdout if check else done

    return run


@pytest.fixture
def octave():
    """``run(code, cwd, env=None)``: Octave code in ``cwd``, its stdout (see ``_octave_runner``)."""
    return _octave_runner()


@pytest.fixture(scope="session")
def octave_session():
    """The same runner, for session- and module-scoped fixtures."""
    return _octave_runner()
