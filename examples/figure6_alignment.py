"""Figure 6: which AlexNet layer best matches each face patch, and through which features
======================================================================================

Simulated MLMF / AL / AM recordings (25 identities x 5 yaw views) against rendered FIV-like
faces through AlexNet (untrained unless ImageNet weights are cached): bootstrap correlation
per layer and patch with split-half noise ceilings, and the Shapley split of each correlation
into reflection-invariant and reflection-sensitive parts, all on the same 300 stimulus
resamples (``alignment_study``, as ``rsa-mirror align``). Run: python examples/figure6_alignment.py [OUT.png]

When the documentation is built, ``RSA_MIRROR_EXAMPLE_SCALE=docs`` runs it with 6 identities, faces
rendered at 64 px (resized to AlexNet's 227), 100 resamples and 10 splits per noise ceiling.
"""

import os
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from neural_data import simulate_face_patches  # noqa: E402
from rsa_mirror import load_model  # noqa: E402
from rsa_mirror.studies import alignment_study, rendered_faces  # noqa: E402
from rsa_mirror.vis import plot_alignment, plot_shapley  # noqa: E402

docs = os.environ.get("RSA_MIRROR_EXAMPLE_SCALE") == "docs"
recordings = simulate_face_patches(n_identities=6 if docs else 25, random_state=0)  # rows view-major
faces = rendered_faces(recordings, size=64 if docs else 227, random_state=0)  # the recordings' identities and views
try:
    network = load_model("alexnet", weights="imagenet")
except FileNotFoundError:
    network = load_model("alexnet", weights="untrained", random_state=0)
n_bootstrap, n_splits = (100, 10) if docs else (300, 50)
result = alignment_study(recordings, faces, network, n_bootstrap=n_bootstrap, n_splits=n_splits, random_state=0)
print(result.summary().round(3).to_string(index=False))

figure, axes = plt.subplots(2, 3, figsize=(11, 6.8), sharey="row", layout="constrained")
plot_alignment(result.comparison, axes=axes[0])
plot_shapley(result.shapley, axes=axes[1])
figure.suptitle(f"AlexNet ({network.weights}) vs simulated face patches")
out = sys.argv[1] if len(sys.argv) > 1 else "figure6_alignment.png"
figure.savefig(out, dpi=150)
print(f"wrote {out}")
