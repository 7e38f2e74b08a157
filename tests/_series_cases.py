"""Small synthetic series with one kind of obvious anomaly each: the regression cases of the
window detectors (issue 17: detectors that scored such anomalies *below* normal data).

Every detector of windows must rank these anomalies above the normal steps; the tests of each
detector fit on ``train`` (anomaly-free) and check an AUROC floor of its point scores on
``test``.
"""

import numpy as np

KINDS = ("level_shift", "spike", "frequency", "noise_burst")


def regression_series(kind, *, n_train=1200, n_test=1200, n_channels=2, period=40, seed=0):
    """Return ``(train, test, labels)``: a noisy sine per channel, and in ``test`` three
    anomalies of ``kind`` (``labels`` marks their steps).

    - ``"level_shift"``: +1.2 (amplitude 1) added over 15 steps, as in the issue's sine;
    - ``"spike"``: one step raised by 4;
    - ``"frequency"``: 2 periods played at twice the frequency;
    - ``"noise_burst"``: 30 steps with noise of standard deviation 0.6 (normal: 0.05).
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}; got {kind!r}.")
    rng = np.random.default_rng(seed)
    t = np.arange(n_train + n_test, dtype=float)
    phases = rng.uniform(0, 2 * np.pi, n_channels)
    clean = np.sin(2 * np.pi * t[:, None] / period + phases)
    series = clean + rng.normal(0, 0.05, clean.shape)
    test = series[n_train:].copy()
    labels = np.zeros(n_test, dtype=int)
    # Three anomalies in the middle of three equal slots of the test part.
    slot = n_test // 3
    for k in range(3):
        start = k * slot + slot // 2
        if kind == "level_shift":
            stop = start + 15
            test[start:stop] += 1.2
        elif kind == "spike":
            stop = start + 1
            test[start, :] += 4.0
        elif kind == "frequency":
            stop = start + 2 * period
            fast = np.sin(4 * np.pi * t[n_train + start : n_train + stop, None] / period + phases)
            test[start:stop] = fast + rng.normal(0, 0.05, fast.shape)
        else:
            stop = start + 30
            test[start:stop] = clean[n_train + start : n_train + stop] + rng.normal(
                0, 0.6, (stop - start, n_channels)
            )
        labels[start:stop] = 1
    return series[:n_train], test, labels
