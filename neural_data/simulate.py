"""Simulated face-patch populations with known tuning (Freiwald & Tsao 2010).

Every analysis runs, and can be checked against ground truth, without private recordings.

Each neuron's expected spike count per trial for identity i at yaw v is

    rate = baseline + amplitude * view_tuning(v) * identity_gain[i]

and single trials are Poisson counts around it. The patches differ in ``view_tuning`` and in
how strongly identity modulates the response:

- MLMF: view-specific. A Gaussian bump around a preferred yaw (uniform in [-90, 90] deg,
  width 25-45 deg); mild identity gains (log-normal, sigma 0.25).
- AL: mirror-symmetric. A Gaussian bump in ``|yaw|`` around a preferred ``|yaw|`` (uniform in
  [0, 90] deg, width 20-40 deg), so v and -v give the same rate; moderate identity gains
  (sigma 0.4).
- AM: view-invariant, identity-selective. Flat view tuning with at most 10 % view-specific
  modulation; strong identity gains (sigma 1.0).

Identity gains are log-normal with mean 1. Baselines are uniform in [0.5, 2] spikes per trial,
amplitudes log-normal around 6 spikes per trial (sigma 0.4).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import numpy as np
from rsatoolbox.data import Dataset

from rsa_mirror._utils import check_count, check_random_state
from rsa_mirror.errors import InvalidArgumentError

from .layout import StimulusLayout
from .recordings import Recordings

if TYPE_CHECKING:
    from rsa_mirror._typing import RandomState

PATCHES = ("MLMF", "AL", "AM")
# Population sizes of the order recorded per patch in Freiwald & Tsao (2010).
DEFAULT_N_NEURONS = {"MLMF": 120, "AL": 60, "AM": 160}
IDENTITY_SIGMA = {"MLMF": 0.25, "AL": 0.4, "AM": 1.0}
TUNING = {"MLMF": "view", "AL": "mirror", "AM": "identity"}


def simulate_face_patches(
    *,
    n_identities: int = 25,
    views_deg: Iterable[float] = (-90, -45, 0, 45, 90),
    n_neurons: int | Mapping[str, int] | None = None,
    n_trials: int = 10,
    random_state: RandomState = None,
) -> Recordings:
    """Simulate MLMF, AL and AM responses to n_identities faces x yaw views.

    Args:
        n_identities: number of face identities.
        views_deg: yaw of each view in degrees, left to right (negative = viewer's left).
        n_neurons: neurons per patch: None for ``DEFAULT_N_NEURONS`` (120, 60, 160), an int
            for every patch, or a mapping patch -> int.
        n_trials: Poisson trials per stimulus and neuron (>= 1).
        random_state: None, int or ``np.random.Generator``; the same seed gives bit-identical
            data.

    Returns:
        ``Recordings`` with patches MLMF, AL, AM; rows view-major (all identities of the first
        view, then the next, ...) as described by ``recordings.layout``; trial-averaged
        measurements and ``recordings.trials`` (n_stimuli, n_neurons, n_trials). Channel
        descriptors hold the ground truth: ``tuning`` ('view', 'mirror' or 'identity'),
        ``preferred_view_deg`` (yaw for MLMF and AM's weak modulation, ``|yaw|`` for AL),
        ``tuning_width_deg``, ``view_modulation`` (depth of the view tuning, 0..1),
        ``baseline``, ``amplitude`` and ``identity_gain_<k>`` (gain for identity k).
    """
    rng = check_random_state(random_state)
    n_trials = check_count("n_trials", n_trials)
    n_identities = check_count("n_identities", n_identities)
    sizes = _patch_sizes(n_neurons)
    layout = dataclasses.replace(
        StimulusLayout.from_yaw(views_deg, n_identities=n_identities, exact_views=True), source="simulated"
    )
    descriptors = layout.descriptors(n_identities * len(layout.views))
    yaw = descriptors["view_deg"]
    datasets: dict[str, Dataset] = {}
    trials: dict[str, np.ndarray] = {}
    for patch in PATCHES:
        truth = _draw_neurons(patch, sizes[patch], n_identities, rng)
        view_tuning = _view_tuning(patch, truth, yaw)  # (n_stimuli, n_neurons)
        gains = truth.pop("identity_gain")  # (n_neurons, n_identities)
        rate = truth["baseline"] + truth["amplitude"] * view_tuning * gains.T[descriptors["identity"]]
        counts = rng.poisson(rate[:, :, None], size=rate.shape + (int(n_trials),)).astype(np.float64)
        channels = {"neuron": np.arange(sizes[patch]), "patch": np.full(sizes[patch], patch), **truth}
        channels.update({f"identity_gain_{k:02d}": gains[:, k] for k in range(n_identities)})
        datasets[patch] = Dataset(
            counts.mean(axis=2),
            descriptors={"name": patch, "patch": patch, "source": "simulate_face_patches"},
            obs_descriptors={k: v.copy() for k, v in descriptors.items()},
            channel_descriptors=channels,
        )
        trials[patch] = counts
    return Recordings(datasets, trials=trials, layout=layout)


def _patch_sizes(n_neurons: int | Mapping[str, int] | None) -> dict[str, int]:
    if n_neurons is None:
        return dict(DEFAULT_N_NEURONS)
    if isinstance(n_neurons, (int, np.integer)):
        sizes = dict.fromkeys(PATCHES, int(n_neurons))
    else:
        unknown = set(n_neurons) - set(PATCHES)
        if unknown:
            raise InvalidArgumentError(
                f"Invalid patch in 'n_neurons': expected keys among {', '.join(PATCHES)}, got {sorted(unknown)}"
            )
        sizes = {**DEFAULT_N_NEURONS, **{k: int(v) for k, v in n_neurons.items()}}
    if min(sizes.values()) < 2:
        raise InvalidArgumentError(f"each patch needs at least 2 neurons, got {sizes}")
    return sizes


def _draw_neurons(patch: str, n: int, n_identities: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Ground-truth tuning parameters of n neurons of one patch."""
    sigma = IDENTITY_SIGMA[patch]
    truth = {"tuning": np.full(n, TUNING[patch])}
    if patch == "MLMF":
        truth["preferred_view_deg"] = rng.uniform(-90, 90, n)
        truth["tuning_width_deg"] = rng.uniform(25, 45, n)
        truth["view_modulation"] = np.ones(n)
    elif patch == "AL":
        truth["preferred_view_deg"] = rng.uniform(0, 90, n)
        truth["tuning_width_deg"] = rng.uniform(20, 40, n)
        truth["view_modulation"] = np.ones(n)
    else:
        truth["preferred_view_deg"] = rng.uniform(-90, 90, n)
        truth["tuning_width_deg"] = np.full(n, 45.0)
        truth["view_modulation"] = rng.uniform(0, 0.1, n)
    truth["baseline"] = rng.uniform(0.5, 2.0, n)
    truth["amplitude"] = 6.0 * rng.lognormal(0.0, 0.4, n)
    truth["identity_gain"] = rng.lognormal(-(sigma**2) / 2, sigma, (n, n_identities))
    return truth


def _view_tuning(patch: str, truth: Mapping[str, np.ndarray], yaw: np.ndarray) -> np.ndarray:
    """(n_stimuli, n_neurons) view factor in [0, 1]."""
    angle = np.abs(yaw)[:, None] if patch == "AL" else yaw[:, None]
    bump = np.exp(-0.5 * ((angle - truth["preferred_view_deg"]) / truth["tuning_width_deg"]) ** 2)
    depth = truth["view_modulation"]
    return 1.0 - depth + depth * bump
