"""Training-loop and scoring efficiency: BaseDeepDetector vs a bare torch loop vs PyOD.

The same tiny auto-encoder (21 -> 64 -> 32 -> 8 -> 32 -> 64 -> 21) is trained for one epoch on
in-memory data by (a) a bare torch loop (pre-shuffled tensor slices, no DataLoader) and (b)
skanomaly's base loop (ReferenceAutoEncoder); PyOD's AutoEncoder (its own architecture, same
batch size) is timed as users would run it. Two tables:

* training: rows/s of one epoch, and of a default ``fit`` (the loop plus its training-score
  pass), against the bare loop;
* scoring: rows/s of ``decision_function`` from host numpy to host numpy, against the bare
  module scoring data already on the device (the ceiling) and from host memory.

Everything runs at ``--threads`` torch threads (the detector gets ``torch_threads`` equal to
it), so the comparison is at equal threads; ``benchmarks/threads.py`` measures thread choice.

Usage::

    python benchmarks/loop.py [--rows 100000] [--features 21] [--batch-size 128]
                              [--threads 1] [--device cpu|cuda|auto] [--score-rows 1000000]
"""

import argparse
import time

import numpy as np
import torch

from skanomaly.nn import resolve_device
from skanomaly.utils._testing import ReferenceAutoEncoder

_BARE_SCORE_CHUNK = 8192


def _best_of(repeats, fn, device):
    """Best wall time of ``repeats`` calls; the process CPU time of that call is kept in
    ``_CPU_TIMES`` (on a shared machine at 1 thread it is the time the work needed)."""
    best = (float("inf"), float("inf"))
    for _ in range(repeats):
        _sync(device)
        cpu, start = time.process_time(), time.perf_counter()
        fn()
        _sync(device)
        best = min(best, (time.perf_counter() - start, time.process_time() - cpu))
    _CPU_TIMES[best[0]] = best[1]
    return best[0]


_CPU_TIMES = {}


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bare_loop(X, batch_size, hidden_dims, latent_dim, device):
    """A plain torch epoch and scoring pass with the same module, optimiser and batching."""
    torch.manual_seed(0)
    detector = ReferenceAutoEncoder(hidden_dims=hidden_dims, latent_dim=latent_dim)
    module = detector._build((X.shape[1],)).to(device)
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3)
    data = torch.from_numpy(X).to(device)
    # On a GPU the whole array is one forward (it fits); on a CPU cache-sized chunks are faster.
    score_chunk = len(X) if device.type != "cpu" else _BARE_SCORE_CHUNK

    def train_epoch():
        shuffled = data[torch.randperm(len(data), device=device)]
        for start in range(0, len(data), batch_size):
            batch = shuffled[start : start + batch_size]
            flat, reconstruction = module(batch)
            loss = ((flat - reconstruction) ** 2).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()

    def score(resident=True):
        out = []
        with torch.no_grad():
            for start in range(0, len(X), score_chunk):
                batch = (
                    data[start : start + score_chunk]
                    if resident
                    else torch.from_numpy(X[start : start + score_chunk]).to(device)
                )
                flat, reconstruction = module(batch)
                out.append(((flat - reconstruction) ** 2).mean(dim=1))
            scores = torch.cat(out)
        return scores if resident else scores.cpu().numpy()

    return train_epoch, score


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--score-rows", type=int, default=None, help="default: --rows")
    parser.add_argument("--features", type=int, default=21)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-pyod", action="store_true", help="skip PyOD's AutoEncoder")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(args.rows, args.features)).astype(np.float32)
    X_score = (
        X
        if args.score_rows in (None, args.rows)
        else rng.normal(size=(args.score_rows, args.features)).astype(np.float32)
    )
    hidden, latent = (64, 32), 8
    train_rows, score_rows = [], []

    train_epoch, _ = bare_loop(X, args.batch_size, hidden, latent, device)
    _, bare_score = bare_loop(X_score, args.batch_size, hidden, latent, device)
    bare_train = _best_of(args.repeats, train_epoch, device)
    train_rows.append(("bare torch loop", bare_train, None))
    score_rows.append(
        ("bare module, data on the device", _best_of(args.repeats, bare_score, device))
    )
    score_rows.append(
        (
            "bare module, host numpy in and out",
            _best_of(args.repeats, lambda: bare_score(resident=False), device),
        )
    )

    detector = ReferenceAutoEncoder(
        hidden_dims=hidden,
        latent_dim=latent,
        epochs=1,
        batch_size=args.batch_size,
        device=device,
        random_state=0,
        torch_threads=args.threads,
    )
    fit_time = _best_of(args.repeats, lambda: detector.fit(X), device)
    # fit also scores the training rows once; the loop alone is fit minus that pass.
    training_pass = _best_of(args.repeats, lambda: detector.decision_function(X), device)
    train_rows.append(("skanomaly BaseDeepDetector, loop", fit_time - training_pass, None))
    train_rows.append(("skanomaly BaseDeepDetector, fit (loop + training scores)", fit_time, None))
    score_rows.append(
        (
            "skanomaly decision_function (host numpy in and out)",
            _best_of(args.repeats, lambda: detector.decision_function(X_score), device),
        )
    )

    if not args.no_pyod:
        from pyod.models.auto_encoder import AutoEncoder

        pyod_ae = AutoEncoder(
            epoch_num=1,
            batch_size=args.batch_size,
            verbose=0,
            random_state=0,
            device=str(device),
        )
        pyod_fit = _best_of(1, lambda: pyod_ae.fit(X), device)
        pyod_score = _best_of(args.repeats, lambda: pyod_ae.decision_function(X_score), device)
        pyod_train_pass = _best_of(1, lambda: pyod_ae.decision_function(X), device)
        train_rows.append(
            ("PyOD AutoEncoder (its defaults), loop", pyod_fit - pyod_train_pass, None)
        )
        score_rows.append(("PyOD AutoEncoder decision_function", pyod_score))

    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(
        f"\n{device} ({name}), batch {args.batch_size}, {args.threads} torch thread(s), "
        f"torch {torch.__version__}\n"
    )
    print(f"Training, {args.rows:,} x {args.features}, one epoch\n")
    print("| loop | train rows/s | vs bare |")
    print("|---|---|---|")
    for label, seconds, _ in train_rows:
        print(f"| {label} | {args.rows / seconds:,.0f} | {bare_train / seconds:.0%} |")
    bare = score_rows[0][1]
    print(f"\nScoring, {len(X_score):,} x {args.features}\n")
    print("| scorer | score rows/s | vs bare (data on the device) | rows per CPU-second |")
    print("|---|---|---|---|")
    for label, seconds in score_rows:
        cpu_rate = len(X_score) / _CPU_TIMES[seconds] if _CPU_TIMES.get(seconds) else 0.0
        print(
            f"| {label} | {len(X_score) / seconds:,.0f} | {bare / seconds:.0%} "
            f"| {cpu_rate:,.0f} |"
        )


if __name__ == "__main__":
    main()
