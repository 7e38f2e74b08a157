"""Small synthetic series with one kind of obvious anomaly each: the regression cases of the
window detectors (issue 17: detectors that scored such anomalies *below* normal data).

Every detector of windows must rank these anomalies above the normal steps; the tests of each
detector fit on ``train`` (anomaly-free) and check an AUROC floor of its point scores on
``test``.
"""

import numpy as np

KINDS = ("level_shift", "spike", "frequency", "noise_burst")
# Cases that reproduce a cause found on the benchmark panel (issue 17), kept apart from KINDS
# (every detector's floor covers KINDS; a detector tests the causes that concern it).
CAUSE_KINDS = ("switch_on", "burst_density", "quiet_spell")


def regression_series(kind, *, n_train=1200, n_test=1200, n_channels=2, period=40, seed=0):
    """Return ``(train, test, labels)``: a noisy sine per channel, and in ``test`` three
    anomalies of ``kind`` (``labels`` marks their steps).

    - ``"level_shift"``: +1.2 (amplitude 1) added over 15 steps, as in the issue's sine;
    - ``"spike"``: one step raised by 4;
    - ``"frequency"``: 2 periods played at twice the frequency;
    - ``"noise_burst"``: 30 steps with noise of standard deviation 0.6 (normal: 0.05).

    ``CAUSE_KINDS`` are not sines; each mimics a panel series on which a detector inverted:

    - ``"switch_on"``: channel 0 drifts slowly; the others are off but for pulses (+2 for 3
      steps) about every ``period`` steps; anomaly: a pulse at +10, 5 times as high (smap_F-3);
    - ``"burst_density"``: a flat baseline with a burst (+3 for 4 steps) every ``period``
      steps (take ``period`` below the window, so that every training window holds a burst);
      anomaly: two periods with a burst every ``period // 4`` steps; between the anomalies,
      normal burst-free stretches of about four periods (NAB ec2_cpu_utilization_77c1ca);
    - ``"quiet_spell"``: channel 0 a slow noisy sine (period ``5 * period``), the others
      binary commands toggling at random steps (each at its own rate, 0.05-0.5 per step);
      anomaly: ``3 * period`` steps in which every command toggles at half its rate while
      channel 0 sits 0.5 above its course (msl_M-4: a quiet spell of the commands while the
      one continuous channel is at an unusual level). Take ``n_channels`` of about 16.
    """
    if kind in CAUSE_KINDS:
        return _cause_series(kind, n_train, n_test, n_channels, period, seed)
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS + CAUSE_KINDS}; got {kind!r}.")
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


def _cause_series(kind, n_train, n_test, n_channels, period, seed):
    """The cases of ``CAUSE_KINDS`` (see ``regression_series``)."""
    rng = np.random.default_rng(seed)
    n = n_train + n_test
    labels = np.zeros(n_test, dtype=int)
    slot = n_test // 3
    starts = [k * slot + slot // 2 for k in range(3)]
    if kind == "switch_on":
        # Channel 0 drifts slowly (one sweep over train, one over test, so every window sees
        # another level, as a ramp or a temperature does); the others are off (0) but for
        # pulses (+2 for 3 steps, all together) every ~``period`` steps. Anomaly: a pulse
        # switched on at 5 times that height (+10) while channel 0 goes on drifting (smap_F-3:
        # command channels far above their usual values while a ramp stays normal).
        t = np.arange(n, dtype=float)
        series = np.zeros((n, n_channels))
        series[:, 0] = np.where(t < n_train, t / n_train, (t - n_train) / n_test) * 4.0 - 2.0
        series += rng.normal(0, 0.05, series.shape)
        onsets = np.arange(0, n - 3, period)
        for onset in onsets + rng.integers(0, period // 2, len(onsets)):
            series[onset : onset + 3, 1:] += 2.0
        test = series[n_train:]
        for start in starts:
            test[start : start + 3, 1:] += 10.0
            labels[start : start + 3] = 1
        return series[:n_train], test, labels
    if kind == "quiet_spell":
        # Busy binary channels make most of a flattened window's features and most of its
        # reconstruction error; a score summed over them follows how busy the commands are,
        # and ranks the quiet anomaly *below* normal windows.
        labels_full = np.zeros(n, dtype=bool)
        for start in starts:
            labels_full[n_train + start : n_train + start + 3 * period] = True
        rates = np.linspace(0.5, 0.05, n_channels - 1)
        toggle_rate = np.where(labels_full[:, None], rates / 2, rates)
        toggles = rng.random((n, n_channels - 1)) < toggle_rate
        commands = np.cumsum(toggles, axis=0) % 2
        t = np.arange(n, dtype=float)
        level = np.sin(2 * np.pi * t / (5 * period)) + rng.normal(0, 0.05, n)
        level[labels_full] += 0.5
        series = np.column_stack([level, commands]).astype(float)
        labels = labels_full[n_train:].astype(int)
        return series[:n_train], series[n_train:], labels
    # "burst_density" (bursts jittered by up to 3 steps): a head that scores how *alike* a
    # window's steps are ranks the burst-free stretches above the dense bursts.
    series = rng.normal(0, 0.05, (n, n_channels))
    regular = np.arange(0, n, period)
    onsets = set((regular + rng.integers(-3, 4, len(regular))).tolist())
    for start in starts:
        # Burst-free stretch of 3 periods between anomalies (normal: quiet spells happen).
        quiet = n_train + start + slot // 2
        onsets -= set(range(quiet - period, quiet + 3 * period))
        onsets |= set(range(n_train + start, n_train + start + 2 * period, period // 4))
        labels[start : start + 2 * period] = 1
    for onset in sorted(onsets):
        if 0 <= onset < n:
            series[onset : onset + 4] += 3.0
    return series[:n_train], series[n_train:], labels
