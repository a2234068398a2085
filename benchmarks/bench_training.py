"""Control-network training speed: seconds per epoch, CPU or GPU.

Default (CPU, one process, the machine's threads): one epoch of each offline dataset with its
README schedule (digits: 1,617 training images, batch 64; rendered: 6,000 images, 5,400 for
training, batch 64), median of --repeats epochs after one warm-up epoch.

--full-schedule: the paper's CIFAR-10 schedule, 250 epochs of batch 256 (SGD, lr 1e-3 halved
every 20 epochs) on a CIFAR-10-sized set: 50,000 32 x 32 images, 45,000 for training and
5,000 for validation. CIFAR-10 itself is used when --root holds it; otherwise the rendered
categories (--n-rendered distinct images, repeated with random mirroring to 50,000: speed does
not depend on content). Prints seconds per epoch as it goes and the total. Written for a
GPU (benchmarks/gpu_training_session.sh); the goal is 250 epochs in under 5 minutes on an H200.

Usage: python benchmarks/bench_training.py [--device cpu] [--full-schedule [--epochs 250]]
"""

import argparse
import time

import numpy as np
import torch

from rsa_mirror.networks.datasets import ImageData, load_dataset
from rsa_mirror.networks.training import train


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--full-schedule", action="store_true")
    parser.add_argument("--epochs", type=int, default=250)
    parser.add_argument("--root", default=None)
    parser.add_argument("--n-rendered", type=int, default=6000)
    args = parser.parse_args()
    if args.full_schedule:
        return full_schedule(args)
    for name in ("digits", "rendered"):
        data = load_dataset(name)
        result = train(data, epochs=1 + args.repeats, device=args.device)
        seconds = result.history.seconds.iloc[1:]
        n_train = len(data) - int(round(0.1 * len(data)))
        print(
            f"{name:8s}: {np.median(seconds):6.2f} s per epoch ({n_train} training images, batch "
            f"{result.config['batch_size']}; {n_train / np.median(seconds):.0f} images/s; device {args.device})"
        )


def cifar_sized(root=None, n_rendered=6000):
    """CIFAR-10 from ``root`` when there, else ``n_rendered`` rendered images repeated (randomly mirrored) to 50,000."""
    try:
        return load_dataset("cifar10", root=root)
    except FileNotFoundError:
        rendered = load_dataset("rendered", n_per_class=n_rendered // 6)
        rng = np.random.default_rng(0)
        pick = torch.from_numpy(rng.integers(0, len(rendered), 50_000))
        images = rendered.images[pick]
        flip = torch.from_numpy(rng.random(50_000) < 0.5)
        images[flip] = images[flip].flip(-1)
        print(f"CIFAR-10 absent: {len(rendered)} rendered images repeated to 50,000")
        return ImageData(images, rendered.labels[pick], rendered.n_classes, "cifar10")  # CIFAR-10's schedule


def full_schedule(args):
    data = cifar_sized(args.root, args.n_rendered)
    began = time.perf_counter()
    result = train(
        data,
        epochs=args.epochs,
        batch_size=256,
        optimizer="sgd",
        lr=1e-3,
        halve_every=20,
        device=args.device,
        verbose=False,
    )
    total = time.perf_counter() - began
    seconds = result.history.seconds
    name = torch.cuda.get_device_name() if torch.cuda.is_available() else "CPU"
    print(
        f"{name}: {len(seconds)} epochs of 45,000 images, batch 256: {total:.1f} s in all "
        f"(goal < 300 s), median {seconds.median():.3f} s per epoch (first epoch {seconds.iloc[0]:.2f} s); "
        f"final validation accuracy {result.history.val_accuracy.iloc[-1]:.3f}"
    )


if __name__ == "__main__":
    main()
