"""AnoRand's default fit on 100k x 21 rows: seconds per fit and per epoch (issue 20).

The GPU target of issue 20 compares this fit on a GPU with the same fit on two CPU cores
(``benchmarks/gpu_check.sh`` runs both side by side). On CUDA the training step is replayed
as a CUDA graph; ``--no-graph`` times the plain loop for comparison. CUDA is initialised
before the timer starts.

Usage::

    python benchmarks/anorand_fit.py --device cpu --threads 2
    python benchmarks/anorand_fit.py --device cuda [--no-graph] [--epochs 5]
"""

import argparse
import time

import numpy as np
import torch

from skanomaly.detectors import AnoRandDetector


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=None, help="torch_threads (default: auto)")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--epochs", default="auto", help="'auto' (the default, 50) or an int")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--no-graph", action="store_true", help="train without the CUDA graph")
    args = parser.parse_args(argv)
    if args.no_graph:
        AnoRandDetector._cuda_graph_step = False
    if torch.device(args.device).type == "cuda" or (
        args.device == "auto" and torch.cuda.is_available()
    ):
        # A process initialises CUDA and cuBLAS once (about a second): not part of a fit.
        torch.ones(8, 8, device="cuda") @ torch.ones(8, 8, device="cuda")
        torch.cuda.synchronize()
    X = np.random.default_rng(0).normal(size=(args.rows, 21))
    epochs = args.epochs if args.epochs == "auto" else int(args.epochs)
    detector = AnoRandDetector(
        device=args.device,
        random_state=0,
        epochs=epochs,
        batch_size=args.batch_size,
        torch_threads=args.threads if args.threads else "auto",
    )
    start, cpu = time.perf_counter(), time.process_time()
    detector.fit(X)
    if detector.device_.type == "cuda":
        torch.cuda.synchronize()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    graph = ""
    if detector.device_.type == "cuda":
        graph = " no graph" if args.no_graph else " graph"
    print(
        f"AnoRand fit {args.rows:,} x 21 on {detector.device_}{graph}, batch {args.batch_size}, "
        f"threads {args.threads or 'auto'}: {seconds:.1f} s for {detector.n_epochs_} epochs "
        f"({seconds / detector.n_epochs_:.2f} s/epoch, {cpu:.1f} CPU s), "
        f"final loss {detector.loss_curve_[-1]:.5f}"
    )


if __name__ == "__main__":
    main()
