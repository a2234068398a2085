"""Figure 2: mirror-symmetric viewpoint tuning across AlexNet's layers, per object category
========================================================================================

Renders the paper's nine categories (here 3 exemplars x 9 views; the paper used 25), streams
them through AlexNet with ImageNet weights when they are cached (else only the untrained
network) and an untrained AlexNet, computes every object's 9 x 9 view RDM per layer and its
index (``msvt_study``, as ``rsa-mirror msvt``), and plots the category means (trained,
untrained, difference). Run: python examples/figure2_msvt_by_layer.py [OUT.png]

When the documentation is built, ``RSA_MIRROR_EXAMPLE_SCALE=docs`` runs it with 1 exemplar per
category (81 images) at 64 px, resized to AlexNet's 227.
"""

import os
import sys

import matplotlib

matplotlib.use("Agg")

from rsa_mirror import load_model, msvt_chance_level, render_objects, summarize_msvt  # noqa: E402
from rsa_mirror.studies import msvt_study  # noqa: E402
from rsa_mirror.vis import plot_msvt_categories  # noqa: E402

docs = os.environ.get("RSA_MIRROR_EXAMPLE_SCALE") == "docs"
stimuli = render_objects(n_exemplars=1 if docs else 3, size=64 if docs else 227, random_state=0)
networks = [load_model("alexnet", weights="untrained", random_state=0)]
try:
    networks.insert(0, load_model("alexnet", weights="imagenet"))
except FileNotFoundError as error:
    print(f"{error}\n-> showing the untrained network only")

result = msvt_study({network.weights: network for network in networks}, stimuli, batch_size=27)  # 3 objects a batch
for label, table in result.tables.items():
    print(label, "\n", summarize_msvt(table, by=("layer", "category")).msvt_mean.unstack().round(2))

out = sys.argv[1] if len(sys.argv) > 1 else "figure2_msvt_by_layer.png"
plot_msvt_categories(result.tables, layer_key="layer", chance_level=msvt_chance_level(9)).savefig(out, dpi=150)
print(f"wrote {out}")
