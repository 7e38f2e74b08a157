"""Training-loop efficiency: BaseDeepDetector vs a bare torch loop vs PyOD's AutoEncoder.

The same tiny auto-encoder (21 -> 64 -> 32 -> 8 -> 32 -> 64 -> 21) is trained for one epoch on
in-memory data by (a) a bare torch loop (pre-shuffled tensor slices, no DataLoader), (b)
skanomaly's base loop (ReferenceAutoEncoder), and PyOD's AutoEncoder (its own architecture,
same batch size) is timed as users would run it. Scoring throughput is measured the same way.

Usage::

    python benchmarks/loop.py [--rows 100000] [--features 21] [--batch-size 128] [--threads 2]
"""

import argparse
import time

import numpy as np
import torch

from skanomaly.utils._testing import ReferenceAutoEncoder


def _best_of(repeats, fn):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def bare_loop(X, batch_size, hidden_dims, latent_dim):
    """A plain torch epoch with the same module, optimiser and batching as the base."""
    torch.manual_seed(0)
    module = ReferenceAutoEncoder(hidden_dims=hidden_dims, latent_dim=latent_dim)._build((X.shape[1],))
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3)
    data = torch.from_numpy(X)

    def train_epoch():
        shuffled = data[torch.randperm(len(data))]
        for start in range(0, len(data), batch_size):
            batch = shuffled[start : start + batch_size]
            flat, reconstruction = module(batch)
            loss = ((flat - reconstruction) ** 2).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()

    def score():
        with torch.no_grad():
            for start in range(0, len(data), 8192):
                batch = data[start : start + 8192]
                flat, reconstruction = module(batch)
                ((flat - reconstruction) ** 2).mean(dim=1)

    return train_epoch, score


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--features", type=int, default=21)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-pyod", action="store_true", help="skip PyOD's AutoEncoder")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(args.rows, args.features)).astype(np.float32)
    hidden, latent = (64, 32), 8
    rows = []

    train_epoch, score = bare_loop(X, args.batch_size, hidden, latent)
    rows.append(("bare torch loop", _best_of(args.repeats, train_epoch), _best_of(args.repeats, score)))

    detector = ReferenceAutoEncoder(
        hidden_dims=hidden, latent_dim=latent, epochs=1, batch_size=args.batch_size,
        device="cpu", random_state=0,
    )
    fit_time = _best_of(args.repeats, lambda: detector.fit(X))
    # fit also scores the training rows once; report the loop alone.
    score_time = _best_of(args.repeats, lambda: detector.decision_function(X))
    rows.append(("skanomaly BaseDeepDetector", fit_time - score_time, score_time))

    if not args.no_pyod:
        from pyod.models.auto_encoder import AutoEncoder

        pyod_ae = AutoEncoder(epoch_num=1, batch_size=args.batch_size, verbose=0, random_state=0)
        pyod_fit = _best_of(1, lambda: pyod_ae.fit(X))
        pyod_score = _best_of(args.repeats, lambda: pyod_ae.decision_function(X))
        rows.append(("PyOD AutoEncoder (its defaults)", pyod_fit - pyod_score, pyod_score))

    bare_train = rows[0][1]
    print(
        f"\n{args.rows} x {args.features} rows, batch {args.batch_size}, "
        f"{args.threads} threads, torch {torch.__version__}\n"
    )
    print("| loop | train rows/s (1 epoch) | vs bare | score rows/s |")
    print("|---|---|---|---|")
    for name, train_s, score_s in rows:
        print(
            f"| {name} | {args.rows / train_s:,.0f} | {bare_train / train_s:.0%} | "
            f"{args.rows / score_s:,.0f} |"
        )


if __name__ == "__main__":
    main()
