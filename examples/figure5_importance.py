"""Figure 5 at reduced scale on a CPU: which local features drive mirror-symmetric units?
======================================================================================

AlexNet (ImageNet weights when cached, else untrained) fc6; 3 rendered objects (car, face,
chair) x 9 views at 64 x 64 pixels (resized to AlexNet's 227 for the network), 300 RISE masks
per image (the paper: 5000 masks on 2025 images); per object the top 5% mirror-symmetric fc6
units, their importance maps, insertion / deletion images at 10..90% of the foreground and the
component shuffle at 25%. Runs in a few minutes on 2 CPU cores; resumable (checkpoints in
OUT_DIR). Run: python examples/figure5_importance.py [OUT_DIR]

When the documentation is built, ``RSA_MIRROR_EXAMPLE_SCALE=docs`` maps only the car and the face
with 32 masks per image: coarser maps, the same panels.
"""

import os
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from rsa_mirror import load_model  # noqa: E402
from rsa_mirror.stimuli import render_objects  # noqa: E402
from rsa_mirror.studies import importance_study  # noqa: E402
from rsa_mirror.vis import plot_importance_study  # noqa: E402

out = Path(sys.argv[1] if len(sys.argv) > 1 else "figure5")
try:
    network = load_model("alexnet", weights="imagenet")
except FileNotFoundError:
    network = load_model("alexnet", weights="untrained", random_state=0)
docs = os.environ.get("RSA_MIRROR_EXAMPLE_SCALE") == "docs"
categories, n_masks = (("car", "face"), 32) if docs else (("car", "face", "chair"), 300)
objects = render_objects(categories=categories, n_exemplars=1, size=64, random_state=0)
checkpoints = out / "rise_checkpoints"
began = time.perf_counter()
result = importance_study(
    network, objects, "fc6_pre", n_masks=n_masks, batch_size=150, random_state=0, checkpoint_dir=checkpoints
)
print(f"AlexNet ({network.weights}), fc6, {time.perf_counter() - began:.0f} s")
print(result.similarity.groupby("threshold")[["r_insertion", "r_deletion"]].mean().round(3))
print(result.msvt.pivot_table(index="object", columns="images", values="msvt").round(3))
plot_importance_study(result, objects).savefig(out / "figure5.png", dpi=150)
print(f"wrote {out / 'figure5.png'}")
