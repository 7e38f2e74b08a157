"""How AnoRand scores windows: the channel score alone against combinations with a density view.

Issue 17 (``benchmarks/anorand_results.md``, section 8). Each series is fitted once per seed
(``TimeSeriesDetector(AnoRandDetector(random_state=seed), window)``, stride 1, defaults), and
every rule below is computed from that one fit, so the rules are compared on the same
networks. The density view is the mean distance of a window's standardised features to its 5
nearest training windows (a bank of at most 4,000, evenly spread); the training windows'
own distances, which calibrate it, skip the windows overlapping them. Columns:

* ``channel``: the per-channel reconstruction score alone (the default before);
* ``ND density``: the distance in the ND block's last hidden layer alone;
* ``+ ND, tail sum``: both as ``-log`` training tail shares, summed (the default now);
* ``+ ND, tail max``: the larger of the two;
* ``+ ND, z sum``: both z-scored with their training mean and spread, summed;
* ``ND+AE density``: the distance in the ND features and the AE latent together, alone;
* ``+ ND+AE, tail max``: with the channel score, the larger tail;
* ``log-error channel + ND, tail sum``: the default with the channel score built from the
  log of each channel's error (z-scored per channel, top-k mean), which damps channels whose
  rare events dwarf their usual error (tried in session 7 for msl_M-4, not adopted).

Points take the max of the windows covering them.

    python benchmarks/anorand_density_score.py msl_M-3 synth:quiet_spell --seeds 0 1

``synth:KIND`` is ``tests/_series_cases.regression_series(KIND)`` (window 32; ``quiet_spell``
with 16 channels); other names are series of ``$SKANOMALY_SHARED_DATA/timeseries``.
"""

import copy
import math

import numpy as np
import torch
from anorand_channel_score import channel_sums, print_table

from skanomaly.detectors._anorand import (
    _DENSITY_BANK_SIZE,
    _DENSITY_NEIGHBOURS,
    _DENSITY_REFERENCE_SIZE,
    _floored,
    _mean_neighbour_distance,
)
from skanomaly.timeseries import sliding_windows
from skanomaly.utils._tails import fit_tail, tail_surprise
from skanomaly.utils._validation import evenly_spread

RULES = (
    "channel",
    "ND density",
    "+ ND, tail sum (default)",
    "+ ND, tail max",
    "+ ND, z sum",
    "ND+AE density",
    "+ ND+AE, tail max",
    "log-error channel + ND, tail sum",
)


def views(detector, windows, chunk=512):
    """Channel score, ND features and AE latent of every window (float64)."""
    channel = detector.set_params(anomaly_score="channel_reconstruction")
    encoder = copy.deepcopy(detector.module_.encoder).double()
    scores, nd, ae = [], [], []
    for start in range(0, len(windows), chunk):
        X = torch.as_tensor(np.ascontiguousarray(windows[start : start + chunk]))
        with torch.no_grad():
            scores.append(channel._score_batch(X).numpy())
            flat = detector._standardize(X).reshape(len(X), -1).double()
            _, _, features = detector._float64_forward(flat, features=True)
            nd.append(features.numpy())
            ae.append(encoder(flat).numpy())
    detector.set_params(anomaly_score="auto")
    return np.concatenate(scores), np.concatenate(nd), np.concatenate(ae)


def log_density(train, test, window):
    """Log mean neighbour distance of the test windows and of the training windows (those
    overlapping a training window excluded), in training-standardised features."""
    mean, scale = train.mean(axis=0), train.std(axis=0)
    scale = np.maximum(scale, 1e-3 * scale.max())
    train, test = (torch.from_numpy((v - mean) / scale) for v in (train, test))
    bank_index = torch.from_numpy(evenly_spread(len(train), _DENSITY_BANK_SIZE))
    query_index = torch.from_numpy(evenly_spread(len(train), _DENSITY_REFERENCE_SIZE))
    bank = train[bank_index]
    train_distance = _mean_neighbour_distance(
        train[query_index], bank, _DENSITY_NEIGHBOURS, query_index, bank_index, window
    )
    test_distance = torch.cat(
        [_mean_neighbour_distance(part, bank, _DENSITY_NEIGHBOURS) for part in test.split(2048)]
    )
    return np.log(train_distance.numpy() + 1e-12), np.log(test_distance.numpy() + 1e-12)


def tail(train, test):
    return tail_surprise(torch.from_numpy(test), fit_tail(train))


def zscore(train, test):
    return (test - train.mean()) / (train.std() + 1e-12)


def log_error_channel_score(train_sums, test_sums):
    """Top-k mean of the per-channel z-scores of the log channel errors."""
    train_log, test_log = (np.log(np.sqrt(s) + 1e-6) for s in (train_sums, test_sums))
    spread, mean = _floored(train_log.std(axis=0)), train_log.mean(axis=0)
    k = math.ceil(math.sqrt(train_log.shape[1]))
    return (
        np.sort((v - mean) / spread, axis=1)[:, -k:].mean(axis=1) for v in (train_log, test_log)
    )


def window_scores(detector, train_windows, test_windows, window):
    (c_tr, nd_tr, ae_tr), (c_te, nd_te, ae_te) = (
        views(detector, w) for w in (train_windows, test_windows)
    )
    nd_train, nd_test = log_density(nd_tr, nd_te, window)
    both_train, both_test = log_density(
        np.hstack([nd_tr, ae_tr]), np.hstack([nd_te, ae_te]), window
    )
    channel_tail = tail(c_tr, c_te).numpy()
    nd_tail = tail(nd_train, nd_test).numpy()
    both_tail = tail(both_train, both_test).numpy()
    log_train, log_test = log_error_channel_score(
        channel_sums(detector, train_windows), channel_sums(detector, test_windows)
    )
    return (
        c_te,
        nd_test,
        channel_tail + nd_tail,
        np.maximum(channel_tail, nd_tail),
        zscore(c_tr, c_te) + zscore(nd_train, nd_test),
        both_test,
        np.maximum(channel_tail, both_tail),
        tail(log_train, log_test).numpy() + nd_tail,
    )


def main(argv=None):
    def scores_of(ts, train, test):
        window = ts.window_
        scores = window_scores(
            ts.detector_, sliding_windows(train, window), sliding_windows(test, window), window
        )
        # The default column is the detector's own score (a check of this script; a
        # training score recomputed here can move an empirical rank by one).
        np.testing.assert_allclose(
            scores[2], ts.detector_.decision_function(sliding_windows(test, window)), atol=1e-2
        )
        return scores

    print_table(RULES, scores_of, argv, __doc__.splitlines()[0])


if __name__ == "__main__":
    main()
