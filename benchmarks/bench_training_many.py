"""Many control networks trained at once (``train_many``) vs one after another (``train``): wall time and ratio.

Default (CPU, small): 4 networks (seeds 0-3, the three label regimes in turn) on 400 of the
digits (360 for training), 1 epoch of batch 64 each, trained one after another with ``train``
and then together with ``train_many``; prints both wall times, their ratio and whether every
network came out bit-identical (state dicts and histories but for seconds).

--full-schedule: the paper's CIFAR-10 schedule (batch 256, SGD, lr 1e-3 halved every 20 epochs)
on a CIFAR-10-sized set (CIFAR-10 under --root, else rendered images repeated to 50,000; 45,000
for training). --serial K times only the first K networks one after another (0: none) and
scales that time to all of them, since a whole grid one after another takes hours.
--processes P also times ``train`` on P worker processes sharing the device (``run_tasks``):
the other way to fill a GPU, for comparison. The target: 35 networks, 250 epochs, in under 20
minutes on one H200.

Usage: python benchmarks/bench_training_many.py [--device cuda] [--networks 35] [--full-schedule]
       [--epochs 250] [--serial 1] [--workers W] [--processes P] [--threads T]
"""

import argparse
import sys
import time
from pathlib import Path

import torch

from rsa_mirror.networks.datasets import REGIMES, ImageData, load_dataset
from rsa_mirror.networks.training import train
from rsa_mirror.networks.training_many import train_many
from rsa_mirror.tasks import raise_failures, run_tasks


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--networks", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=None, help="default: 1, or 250 with --full-schedule")
    parser.add_argument("--n-images", type=int, default=400, help="digits used (small setting)")
    parser.add_argument("--workers", type=int, default=None, help="train_many's workers (default: its own)")
    parser.add_argument("--serial", type=int, default=None, help="networks timed one after another (default: all)")
    parser.add_argument("--processes", type=int, default=0, help="also time train on this many worker processes")
    parser.add_argument("--threads", type=int, default=None, help="torch's CPU threads (default: torch's)")
    parser.add_argument("--full-schedule", action="store_true")
    parser.add_argument("--root", default=None)
    parser.add_argument("--n-rendered", type=int, default=1200)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    setting = {key: getattr(args, key) for key in ("full_schedule", "root", "n_rendered", "n_images", "epochs")}
    jobs = [make_job(i, **setting) for i in range(args.networks)]
    data, epochs, batch = jobs[0]["data"], jobs[0]["epochs"], jobs[0]["batch_size"]
    n_serial = len(jobs) if args.serial is None else min(args.serial, len(jobs))
    cuda = args.device.startswith("cuda")
    name = torch.cuda.get_device_name() if cuda else f"CPU, {torch.get_num_threads()} torch threads"
    n_train = len(data) - int(round(0.1 * len(data)))
    print(f"{name}: {len(jobs)} networks, {epochs} epochs of {n_train} images, batch {batch}")
    if cuda:  # CUDA context, cuDNN and cuBLAS set up outside the timings
        train(**{**jobs[0], "epochs": 1}, device=args.device)
    began = time.perf_counter()
    apart = [train(**job, device=args.device) for job in jobs[:n_serial]]
    serial = time.perf_counter() - began
    began = time.perf_counter()
    together = train_many(jobs, device=args.device, workers=args.workers, verbose=True)
    parallel = time.perf_counter() - began
    if n_serial:
        scaled = serial * len(jobs) / n_serial
        note = "" if n_serial == len(jobs) else f" ({n_serial} timed, scaled to {len(jobs)})"
        print(f"one after another: {scaled:.1f} s{note}; {serial / n_serial:.1f} s per network")
    workers = args.workers or "default"
    print(f"together (train_many, workers {workers}): {parallel:.1f} s, {parallel / len(jobs):.2f} s per network")
    if n_serial:
        print(f"ratio (one after another / together): {scaled / parallel:.2f}")
        print(f"bit-identical to train alone ({n_serial} compared): {same(apart, together)}")
    if args.processes:
        tasks = [{"index": i, "device": args.device, "setting": setting} for i in range(len(jobs))]
        began = time.perf_counter()
        outcomes = raise_failures(run_tasks(train_job, tasks, n_jobs=args.processes, verbose=False))
        processes = time.perf_counter() - began
        print(f"train on {args.processes} worker processes: {processes:.1f} s (start-up included)")
        values = [outcome.value for outcome in outcomes]
        threads = sorted({value.config["threads"] for value in values})
        identical = same(together, values, ("seconds", "threads"))
        print(f"weights bit-identical to train_many's: {identical} (torch threads in the workers: {threads})")
    accuracy = [float(r.history.val_accuracy.iloc[-1]) for r in together]
    print(f"final validation accuracy: min {min(accuracy):.3f}, max {max(accuracy):.3f}")


HERE = str(Path(__file__).resolve().parent)
_DATA = {}  # made once per process


def make_data(full_schedule, root, n_rendered, n_images):
    key = (full_schedule, root, n_rendered, n_images)
    if key not in _DATA:
        if full_schedule:
            if HERE not in sys.path:  # in a worker process too
                sys.path.insert(0, HERE)
            from bench_training import cifar_sized

            _DATA[key] = cifar_sized(root, n_rendered)
        else:
            digits = load_dataset("digits")
            _DATA[key] = ImageData(digits.images[:n_images], digits.labels[:n_images], 10, "digits")
    return _DATA[key]


def make_job(index, *, full_schedule, root, n_rendered, n_images, epochs):
    """Network ``index`` of the grid: seed ``index``, the label regimes in turn."""
    data = make_data(full_schedule, root, n_rendered, n_images)
    if full_schedule:
        options = {"epochs": epochs or 250, "batch_size": 256, "optimizer": "sgd", "lr": 1e-3, "halve_every": 20}
    else:
        options = {"epochs": epochs or 1, "batch_size": 64}
    return {"data": data, "random_state": index, "regime": REGIMES[index % len(REGIMES)], **options}


def train_job(index, device, setting):
    """``train`` of network ``index`` (in a worker process: the data are made there)."""
    return train(**make_job(index, **setting), device=device)


def same(results, others, ignored=("seconds",)) -> bool:
    """Every network's state dict and history (but for the ``ignored`` columns) identical."""
    return all(
        all(torch.equal(v, b.network.state_dict()[k]) for k, v in a.network.state_dict().items())
        and a.history.drop(columns=list(ignored)).equals(b.history.drop(columns=list(ignored)))
        for a, b in zip(results, others[: len(results)], strict=True)
    )


if __name__ == "__main__":
    main()
