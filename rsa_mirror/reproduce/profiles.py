"""The settings of every step of ``rsa-mirror reproduce`` at each scale: ``smoke``, ``reduced``, ``paper``.

``PROFILES[profile][step]`` is a plain dict of the step's settings (images, exemplars, masks,
resamples, seeds, sizes); a step's cache key hashes it, so changing a number here recomputes
that step only. ``smoke`` runs every step in a few minutes on 2 CPU cores (the tests run it),
``reduced`` in under half an hour there, ``paper`` at the paper's scale (2025 images: 25
exemplars x 9 categories x 9 views, 5000 RISE masks, 1000 stimulus resamples) for a GPU. The
Figure 4 grid runs the plan's ``full`` preset (40 networks, trained together by
``train_many``) in ``paper`` and a small grid of 16 networks in ``smoke`` and ``reduced``.
Rendered images are drawn at ``size`` pixels and resized to each network's input.
"""

from __future__ import annotations

import copy
from typing import Any

from .._utils import check_option

# Figure 5 at the paper's scale maps all 225 objects: 25 exemplars of the nine categories.
CATEGORIES = ["car", "boat", "face", "chair", "airplane", "animal", "tool", "fruit", "flower"]
SEED = 0  # every step's seed (rendering, untrained weights, masks, resamples, simulation)
# Figure 2—figure supplement 8's offsets at 227 pixels: (pixels down, pixels right) pairs, scaled to ``size``.
SHIFT_OFFSETS = [[0, 0], [15, 15], [0, -30], [0, 30]]


def _profile(
    *, shifts: int, exemplars: int, size: int, natural: int, masks: int, mask_batch: int, identities: int,
    bootstrap: int, splits: int, recovery: dict[str, Any], training: dict[str, Any], grid: dict[str, Any],
) -> dict[str, dict[str, Any]]:  # fmt: skip
    objects = {"n_exemplars": exemplars, "size": size, "seed": SEED}
    supplement = dict(objects)
    return {
        "figure2": dict(objects),
        "projection_symmetry": dict(objects),
        "figure3": {"n_objects": 81 * exemplars, "n_natural": natural, "n_noise": natural, "size": size, "seed": SEED},
        "figure4": {**training, "test_exemplars": exemplars, "size": 64, "seed": SEED},
        "figure4_grid": grid,
        "figure5": {
            "categories": CATEGORIES if exemplars >= 25 else ["car", "face", "chair"][: 2 + (exemplars > 1)],
            "n_exemplars": 1 if exemplars < 25 else 25,
            "n_masks": masks,
            "batch_size": mask_batch,
            "seed": SEED,
        },
        "figure6": {
            "n_identities": identities,
            "n_bootstrap": bootstrap,
            "n_splits": splits,
            "size": size,
            "seed": SEED,
        },
        "pooling": dict(supplement),
        "normalization": dict(supplement),
        "shift": {**supplement, "offsets": [[round(v * size / 227) for v in pair] for pair in SHIFT_OFFSETS[:shifts]]},
        "equivariance_distribution": {"n_images": natural, "size": size, "seed": SEED},
        "category_invariance": dict(supplement),
        "weight_symmetry": {"method": "full"},
        "recovery": {"n_identities": identities, "size": size, **recovery, "seed": SEED},
    }


PROFILES = {
    "smoke": _profile(
        shifts=2,
        exemplars=1,
        size=64,
        natural=16,
        masks=64,
        mask_batch=64,
        identities=6,
        bootstrap=20,
        splits=4,
        recovery={"source_layers": ["fc6"], "n_neurons": 40, "noise_levels": [0.5, 4.0], "n_seeds": 2,
                  "n_bootstrap": 20, "n_splits": 4},
        training={"runs": [["digits", "original"]], "seeds": [0], "epochs": 1, "n_per_class": 100},
        grid={"scale": "reduced", "seeds": [0, 1], "n_per_class": 30, "epochs": 1, "n_heldout": 10,
              "test_exemplars": 1, "match_exemplars": 1},
    ),
    "reduced": _profile(
        shifts=4,
        exemplars=3,
        size=128,
        natural=243,
        masks=500,
        mask_batch=250,
        identities=25,
        bootstrap=200,
        splits=20,
        recovery={"source_layers": ["conv5", "fc6"], "n_neurons": 100, "noise_levels": [0.5, 2.0, 8.0],
                  "n_seeds": 3, "n_bootstrap": 50, "n_splits": 10},
        training={"runs": [["rendered", "original"], ["digits", "original"], ["digits", "mirror_invariant"],
                            ["digits", "mirror_sensitive"]], "seeds": [0], "epochs": 5, "n_per_class": 200},
        grid={"scale": "reduced", "seeds": [0, 1], "n_per_class": 100, "epochs": 10, "n_heldout": 20,
              "test_exemplars": 3, "match_exemplars": 2},
    ),
    "paper": _profile(
        shifts=4,
        exemplars=25,
        size=227,
        natural=2025,
        masks=5000,
        mask_batch=500,
        identities=25,
        bootstrap=1000,
        splits=100,
        recovery={"source_layers": ["conv3", "conv5", "fc6", "fc7"], "n_neurons": 100,
                  "noise_levels": [0.5, 2.0, 8.0], "n_seeds": 20, "n_bootstrap": 1000, "n_splits": 100},
        training={"runs": [["rendered", "original"], ["digits", "original"], ["digits", "mirror_invariant"],
                           ["digits", "mirror_sensitive"]], "seeds": [0, 1, 2], "epochs": None, "n_per_class": 1000},
        grid={"scale": "full", "together": True},
    ),
}  # fmt: skip


# The steps in report order (``registry.STEPS`` holds them in this order).
STEP_NAMES = tuple(PROFILES["smoke"])


def profile_settings(profile: str) -> dict[str, dict[str, Any]]:
    """Step name -> its settings (a deep copy) for ``profile`` (``"smoke"``, ``"reduced"`` or ``"paper"``).

    Raises:
        InvalidArgumentError: an unknown profile.
    """
    check_option("profile", profile, tuple(PROFILES))
    return copy.deepcopy(PROFILES[profile])
