"""Figure 4: does training on mirror-invariant labels make mirror-symmetric viewpoint tuning emerge?
=================================================================================================

Trains the paper's control network with several seeds on scikit-learn's digits under the three
label regimes (original, mirror_invariant = symSVHN-like, mirror_sensitive = asymSVHN-like) and
on rendered bilaterally symmetric categories (a CIFAR-10 stand-in, no faces), then measures the
index of every layer on rendered test objects of the paper's 9 categories, faces included, that
no network saw (``control_experiment``; ``rsa-mirror train`` runs one network the same way,
``control_network_study``). Writes, into --out, as it goes: msvt_by_object.csv, histories.csv, then
faces_fc.csv (faces' index in fc1 and fc2 per regime: mean and 95% interval over seeds),
figure4.png, training_curves.png and the seed-0 rendered-categories network
(control_rendered.pt). Nothing is tuned toward the expected answer: the schedules are the
documented ones for each dataset (docs: "Comparing with networks").

Run: python examples/figure4_control_networks.py [--seeds 0 1 2] [--device auto] [--out figure4]
(about 3 minutes per digits network and 10 per rendered one on 2 CPU cores; seconds on a GPU)

When the documentation is built, ``RSA_MIRROR_EXAMPLE_SCALE=docs`` changes the defaults to one
seed, 2 epochs per network, 100 rendered training images per category and 1 test exemplar per
category: the four networks train in seconds and barely learn, so the figure shows the pipeline,
not the paper's result.
"""

import argparse
import os
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402

from rsa_mirror import msvt_chance_level, render_objects  # noqa: E402
from rsa_mirror.networks import load_dataset, save_network  # noqa: E402
from rsa_mirror.studies import control_experiment, faces_in_fc  # noqa: E402
from rsa_mirror.vis import plot_control_networks, plot_training_curves  # noqa: E402

RUNS = [
    ("digits", "original"),
    ("digits", "mirror_invariant"),
    ("digits", "mirror_sensitive"),
    ("rendered", "original"),
]

docs = os.environ.get("RSA_MIRROR_EXAMPLE_SCALE") == "docs"
parser = argparse.ArgumentParser(description="Figure 4: control networks under each label regime")
parser.add_argument("--seeds", type=int, nargs="+", default=[0] if docs else [0, 1, 2])
parser.add_argument("--device", default="auto")
parser.add_argument("--epochs", type=int, default=2 if docs else None, help="override every schedule's epochs")
parser.add_argument("--n-per-class", type=int, default=100 if docs else 1000, help="rendered images per category")
parser.add_argument("--test-exemplars", type=int, default=1 if docs else 5, help="test objects per category")
parser.add_argument("--out", type=Path, default=Path("figure4"))
args = parser.parse_args()
args.out.mkdir(parents=True, exist_ok=True)

began = time.perf_counter()
datasets = {"digits": load_dataset("digits"), "rendered": load_dataset("rendered", n_per_class=args.n_per_class)}
# the test objects' seed is apart from every training set's
test_objects = render_objects(n_exemplars=args.test_exemplars, size=64, random_state=2024)
print(f"data ready in {time.perf_counter() - began:.0f} s", flush=True)
tables, histories = [], []


def report(dataset, regime, seed, result):
    """Each network as it is done: its accuracy, the tables so far, the seed-0 rendered network."""
    labels = {"dataset": dataset, "regime": regime, "seed": seed}
    tables.append(result.msvt.assign(**labels))
    histories.append(result.training.history.assign(**labels))
    pd.concat(tables).to_csv(args.out / "msvt_by_object.csv", index=False)
    pd.concat(histories).to_csv(args.out / "histories.csv", index=False)
    if (dataset, regime, seed) == ("rendered", "original", args.seeds[0]):
        save_network(args.out / "control_rendered.pt", result.training)
    accuracy = result.training.history.val_accuracy.iloc[-1]
    print(f"{dataset:8s} {regime:16s} seed {seed}: val accuracy {accuracy:.3f}", flush=True)


experiment = control_experiment(
    datasets, test_objects, runs=RUNS, seeds=args.seeds, device=args.device, epochs=args.epochs, on_network=report
)
summary = faces_in_fc(experiment.msvt)  # faces' index in fc1 and fc2: mean and 95% interval over seeds
summary.to_csv(args.out / "faces_fc.csv", index=False)
print(summary.to_string(index=False, float_format=lambda v: f"{v:.3f}"))

table, history = experiment.msvt, experiment.histories
labels = {f"{d}, {r}": table[(table.dataset == d) & (table.regime == r)] for d, r in RUNS}
figure = plot_control_networks(labels, dashed=("digits, mirror_sensitive",), chance_level=msvt_chance_level(9))
figure.savefig(args.out / "figure4.png", dpi=150)
curves = {
    f"{d}, {r}": history[(history.dataset == d) & (history.regime == r) & (history.seed == args.seeds[0])]
    for d, r in RUNS
}
plot_training_curves(curves).savefig(args.out / "training_curves.png", dpi=150)
print(f"done in {time.perf_counter() - began:.0f} s; wrote {args.out}")
