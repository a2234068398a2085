"""Mirror-symmetric viewpoint tuning in simulated face patches (Freiwald & Tsao 2010, Fig. 1A).

Simulates MLMF (view-specific), AL (mirror-symmetric) and AM (view-invariant) populations,
builds their 125 x 125 RDMs (1 - Pearson r after z-scoring each neuron), computes the
mirror-symmetric viewpoint tuning index per identity and patch, and plots the RDMs ordered by
view. Run: python examples/face_patch_symmetry.py [OUT.png]
"""

import sys

import matplotlib

matplotlib.use("Agg")

from neural_data import simulate_face_patches  # noqa: E402
from rsa_mirror import compute_rdms, msvt_by_object, msvt_chance_level, summarize_msvt  # noqa: E402
from rsa_mirror.vis import plot_rdms  # noqa: E402

recordings = simulate_face_patches(random_state=0)
rdms = compute_rdms(recordings)  # one RDM per patch, descriptors identity/view/view_deg carried

table = msvt_by_object(recordings, object_key="identity")  # one row per patch x identity
summary = summarize_msvt(table)  # mean, SEM and count per patch
print(summary.round(3))
print(f"chance level of a view-invariant patch with 5 views: {msvt_chance_level(5):.3f}")

titles = [f"{patch}: {row.msvt_mean:.2f} ± {row.msvt_sem:.3f}" for patch, row in summary.iterrows()]
out = sys.argv[1] if len(sys.argv) > 1 else "face_patch_symmetry.png"
plot_rdms(rdms, titles=titles).savefig(out, dpi=150)
print(f"wrote {out}")
