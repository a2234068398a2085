"""Shared fixtures: headless plotting, figures closed after each test, seeded data, GNU Octave.

Seeded synthetic data, built in one place (nilearn's ``_utils/data_gen.py`` style): simulated
recordings, object sets of random views (``make_object_views``: ``objects``, ``small_set``),
a toy network with hand-set weights whose activations are known exactly (``toy_network``) and
an untrained AlexNet.
"""

import os
import shutil
import subprocess
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
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


def make_object_views(n_objects, views_deg, size, *, seed=0, categories=None, block=1):
    """A StimulusSet of ``n_objects`` x len(views_deg) seeded random gray images (object-major).

    Args:
        n_objects: objects, named ``obj0``, ``obj1``, ...
        views_deg: the views of every object (``view_deg``).
        size: image height and width in pixels.
        seed: seed of the pixels.
        categories: optional one category per object (``category``).
        block: pixels per side of each random value (smooth images for block > 1).
    """
    from rsa_mirror.stimuli import StimulusSet

    rng, n_views, side = np.random.default_rng(seed), len(views_deg), size // block
    images = rng.uniform(0, 1, (n_objects * n_views, side, side)).astype(np.float32)
    images = images.repeat(block, axis=1).repeat(block, axis=2)
    descriptors = {"object": np.repeat([f"obj{i}" for i in range(n_objects)], n_views)}
    if categories is not None:
        descriptors["category"] = np.repeat(categories, n_views)
    descriptors["view_deg"] = np.tile(np.asarray(views_deg, dtype=float), n_objects)
    return StimulusSet(images, descriptors)


@pytest.fixture(scope="session")
def object_views():
    """``make_object_views``, for fixtures of other shapes."""
    return make_object_views


@pytest.fixture(scope="module")
def objects():
    """4 objects x 5 views of random 48 x 48 grayscale images, categories x, x, y, y."""
    return make_object_views(4, [-90.0, -45.0, 0.0, 45.0, 90.0], 48, categories=["x", "x", "y", "y"])


@pytest.fixture
def small_set():
    """2 objects x 3 views of random 8 x 8 images in [0, 1] (objects 'a', 'b')."""
    stimuli = make_object_views(2, [-45.0, 0.0, 45.0], 8)
    stimuli.descriptors["object"] = np.repeat(["a", "b"], 3)
    return stimuli


def make_toy_network(*, bias=(0.0, 0.5), readout=True):
    """A toy network with hand-set weights whose activations are known exactly.

    Module "0": a 1 x 1 convolution of one input channel x into the two units (x + b0, -x + b1);
    "1": an in-place ReLU; with ``readout``, "2" global average pooling, "3" flatten and "4" the
    linear unit 2 a + 3 b + 1 of the two pooled maps; else "2" flattens the ReLU's maps.
    """
    import torch

    conv = torch.nn.Conv2d(1, 2, kernel_size=1)
    with torch.no_grad():
        conv.weight[:] = torch.tensor([1.0, -1.0]).view(2, 1, 1, 1)
        conv.bias[:] = torch.tensor(bias)
    if not readout:
        return torch.nn.Sequential(conv, torch.nn.ReLU(inplace=True), torch.nn.Flatten())
    linear = torch.nn.Linear(2, 1)
    with torch.no_grad():
        linear.weight[:] = torch.tensor([[2.0, 3.0]])
        linear.bias[:] = 1.0
    return torch.nn.Sequential(
        conv, torch.nn.ReLU(inplace=True), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), linear
    )


@pytest.fixture
def toy_network():
    """``make_toy_network``: call it for a fresh network (``toy_network(readout=False, bias=(0, 0))``)."""
    return make_toy_network


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


CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--enable-logging=stderr", "--v=0",
    "--virtual-time-budget=5000",
)  # fmt: skip


@pytest.fixture
def chromium(tmp_path):
    """``dump(html_file)``: headless Debian chromium's DOM of a page after load, and its console messages.

    Skips when /usr/bin/chromium is missing, unless RSA_MIRROR_REQUIRE_CHROMIUM=1 (set by .ci/run,
    which installs it), where a missing chromium fails the test. Each call uses a fresh profile.
    """
    program = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").is_file() else None)
    if program is None:
        if os.environ.get("RSA_MIRROR_REQUIRE_CHROMIUM") == "1":
            pytest.fail("chromium is required here (RSA_MIRROR_REQUIRE_CHROMIUM=1) but not installed")
        pytest.skip("chromium not installed: apt-get install -y --no-install-recommends chromium to run this test")
    calls = iter(range(1000))

    def dump(page):
        profile = tmp_path / f"chromium-profile-{next(calls)}"
        done = subprocess.run(
            [program, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", Path(page).resolve().as_uri()],
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
        return done.stdout, console

    return dump
