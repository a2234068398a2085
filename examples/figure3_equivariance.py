"""Figure 3: reflection invariance and equivariance across AlexNet's layers
========================================================================

For rendered objects, natural photographs (crops of scikit-image's and scikit-learn's sample
images) and white noise (``figure3_images``), measures per layer the invariance (Eq. 2) and,
for convolutional layers, the equivariance (Eq. 3) under horizontal flip, vertical flip and
90-degree rotation (``equivariance_study``, as ``rsa-mirror equivariance``). Small image sets so
that it runs on a CPU in about a minute; untrained AlexNet unless ImageNet weights are cached.
Run: python examples/figure3_equivariance.py [OUT.png]

When the documentation is built, ``RSA_MIRROR_EXAMPLE_SCALE=docs`` runs it on 81 objects, 16
natural and 16 noise images at 64 px (resized to AlexNet's 227).
"""

import os
import sys

import matplotlib

matplotlib.use("Agg")

from rsa_mirror import load_model  # noqa: E402
from rsa_mirror.studies import equivariance_study, figure3_images  # noqa: E402
from rsa_mirror.vis import plot_equivariance  # noqa: E402

try:
    network = load_model("alexnet", weights="imagenet")
except FileNotFoundError:
    network = load_model("alexnet", weights="untrained", random_state=0)

docs = os.environ.get("RSA_MIRROR_EXAMPLE_SCALE") == "docs"
n_other = 16 if docs else 45  # natural and noise images
sizes = {"objects": 81, "natural": n_other, "noise": n_other}  # objects: 1 exemplar x 9 categories x 9 views
image_sets = {kind: figure3_images(kind, n, size=64 if docs else 227, random_state=0) for kind, n in sizes.items()}
result = equivariance_study({network.weights: network}, image_sets)
for label, table in result.tables.items():
    print(
        label,
        "\n",
        table.pivot_table(index="layer", columns=["measure", "transform"], values="mean", sort=False).round(3),
    )

out = sys.argv[1] if len(sys.argv) > 1 else "figure3_equivariance.png"
plot_equivariance(result.tables).savefig(out, dpi=150)
print(f"wrote {out}")
