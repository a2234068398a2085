"""Mirror-symmetric viewpoint tuning in simulated face patches (Freiwald & Tsao 2010, Fig. 1A)
===========================================================================================

Simulates MLMF (view-specific), AL (mirror-symmetric) and AM (view-invariant) populations,
builds their 125 x 125 RDMs (1 - Pearson r after z-scoring each neuron), computes the
mirror-symmetric viewpoint tuning index per identity and patch (``patch_study``, the first part
of ``rsa-mirror demo``), and plots the RDMs ordered by view.
Run: python examples/face_patch_symmetry.py [OUT.png]
"""

import sys

import matplotlib

matplotlib.use("Agg")

from neural_data import simulate_face_patches  # noqa: E402
from rsa_mirror.studies import patch_study  # noqa: E402
from rsa_mirror.vis import plot_rdms  # noqa: E402

result = patch_study(simulate_face_patches(random_state=0))  # RDMs, index per identity and patch
print(result.summary.drop(columns="views_left_out").round(3))
print(f"chance level of a view-invariant patch with {result.n_views} views: {result.summary.chance_level.iloc[0]:.3f}")

titles = [f"{patch}: {row.msvt_mean:.2f} ± {row.msvt_sem:.3f}" for patch, row in result.summary.iterrows()]
out = sys.argv[1] if len(sys.argv) > 1 else "face_patch_symmetry.png"
plot_rdms(result.rdms, titles=titles).savefig(out, dpi=150)
print(f"wrote {out}")
