#!/usr/bin/env bash
# GPU readiness check of issue 20, prepared for a session with a lent GPU (< 5 minutes on an
# H100). Run from the repository root:   bash benchmarks/gpu_check.sh [python]
#
# 1. the detector, base and torch-base tests on CUDA (device="auto" picks it);
# 2. benchmarks/loop.py --device cuda: training (batch 128 and 4096) and scoring of 1M x 21
#    from host memory (issue 20 targets: scoring >= 50M rows/s; training not launch-bound);
# 3. AnoRand with default parameters on 100k x 21: fit time on 2 CPU threads vs the GPU
#    (target: the GPU at least 5x faster).
# Each step has its own time limit, so one slow step does not hide the others' results.
set -u
PY=${1:-python}
export PYTHONPATH=${PYTHONPATH:-$PWD}
$PY -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'; print(torch.cuda.get_device_name(0), torch.__version__)" || exit 1

echo "== 1. tests on CUDA"
timeout 150 $PY -m pytest -q -p no:cacheprovider -x tests/test_torch_base.py tests/test_base.py tests/detectors 2>&1 | tail -15

echo "== 2. loop.py on CUDA (training and scoring tables)"
for batch in 128 4096; do
    timeout 60 $PY benchmarks/loop.py --device cuda --batch-size "$batch" --score-rows 1000000 --no-pyod --repeats 3 2>&1 | tail -16
done

echo "== 3. AnoRand default fit, 100k x 21: 2 CPU threads vs GPU"
timeout 150 $PY - <<'PYEOF'
import time
import numpy as np
import torch
from skanomaly.detectors import AnoRandDetector as AnoRand

X = np.random.default_rng(0).normal(size=(100_000, 21))
times = {}
# The documented GPU option (batch_size 4096) next to the defaults; the CPU fit runs last
# (the longest) so a time-out still leaves the GPU numbers.
for device, threads, batch in (("cuda", None, 128), ("cuda", None, 4096), ("cpu", 2, 128)):
    detector = AnoRand(device=device, random_state=0, torch_threads=threads, batch_size=batch)
    start = time.perf_counter()
    detector.fit(X)
    if device == "cuda":
        torch.cuda.synchronize()
    times[device, batch] = time.perf_counter() - start
    print(f"AnoRand fit on {device}, batch {batch}: {times[device, batch]:.1f} s "
          f"({detector.n_epochs_} epochs)", flush=True)
for batch in (128, 4096):
    print(f"GPU (batch {batch}) vs 2 CPU threads (batch 128, default): "
          f"{times['cpu', 128] / times['cuda', batch]:.1f}x (target >= 5x at the defaults)")
PYEOF
