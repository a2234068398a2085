"""Shared fixtures: headless plotting, figures closed after each test, seeded data."""

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
    from rsa_mirror.models import load_model

    return load_model("alexnet", weights="untrained", random_state=0)
