"""Figure 3: reflection invariance and equivariance across AlexNet's layers.

For rendered objects, natural photographs (crops of scikit-image's and scikit-learn's sample
images) and white noise, measures per layer the invariance (Eq. 2) and, for convolutional
layers, the equivariance (Eq. 3) under horizontal flip, vertical flip and 90-degree rotation.
Small image sets so that it runs on a CPU in about a minute; untrained AlexNet unless ImageNet
weights are cached. Run: python examples/figure3_equivariance.py [OUT.png]
"""

import sys

import matplotlib

matplotlib.use("Agg")

from rsa_mirror import load_model, measure_equivariance  # noqa: E402
from rsa_mirror.stimuli import (  # noqa: E402
    natural_images,
    noise_images,
    render_objects,  # noqa: E402
)
from rsa_mirror.vis import plot_equivariance  # noqa: E402

try:
    network = load_model("alexnet", weights="imagenet")
except FileNotFoundError:
    network = load_model("alexnet", weights="untrained", random_state=0)

image_sets = {
    "objects": render_objects(n_exemplars=1, size=227, random_state=0),
    "natural": natural_images(45, size=227, random_state=0),
    "noise": noise_images(45, size=227, random_state=0),
}
tables = {
    f"{name} ({network.weights})": measure_equivariance(network, images, "all") for name, images in image_sets.items()
}
for label, table in tables.items():
    print(
        label,
        "\n",
        table.pivot_table(index="layer", columns=["measure", "transform"], values="mean", sort=False).round(3),
    )

out = sys.argv[1] if len(sys.argv) > 1 else "figure3_equivariance.png"
plot_equivariance(tables).savefig(out, dpi=150)
print(f"wrote {out}")
