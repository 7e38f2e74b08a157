"""Tail surprise: a score as ``-log`` of the share of training rows scoring at least as high.

Two scores in different units (a reconstruction error and a neighbour distance, or distances
in two spaces) cannot be added as they are: whichever spreads more decides, and its spread
can change with the seed. On this scale they can (Fisher's combination of tail
probabilities), and only a row's position among the training rows counts. AnoRand's window
score and GenIAS's neighbour score use it (issues 17 and 18).

A calibration is one float64 array, ``[threshold, mean_excess, *sorted training scores]``,
so a detector stores it as a fitted array (``save`` writes it with the weights).
"""

import math

import numpy as np
import torch

# Above the ``1 - TAIL_SHARE`` quantile of the training scores, the share is extrapolated by
# an exponential tail, so rows beyond every training row keep their order instead of tying.
TAIL_SHARE = 0.1


def fit_tail(scores, share=TAIL_SHARE):
    """The calibration of :func:`tail_surprise` from the training rows' scores.

    Parameters
    ----------
    scores : array-like of shape (n_rows,)
        The training rows' scores.
    share : float, default=TAIL_SHARE
        Share of the training rows in the extrapolated tail.

    Returns
    -------
    calibration : ndarray of shape (n_rows + 2,)
        float64: the scores' ``1 - share`` quantile (``threshold``, where the exponential tail
        starts), the mean excess of the scores above it (the tail's scale; 1 when none lies
        above it, e.g. all scores equal), then the scores, sorted.
    """
    reference = np.sort(np.asarray(scores, dtype=np.float64).ravel())
    threshold = float(np.quantile(reference, 1 - share))
    excess = reference[reference > threshold] - threshold
    mean_excess = float(excess.mean()) if len(excess) else 0.0
    mean_excess = mean_excess if mean_excess > 1e-12 else 1.0
    return np.concatenate([[threshold, mean_excess], reference])


def tail_surprise(scores, calibration, share=TAIL_SHARE):
    """``-log`` of the share of training rows that score at least as high as each row.

    The share is empirical, ``(n_at_least + 0.5) / (n + 1)`` (never 0); beyond ``threshold``
    it is the smaller of that and the exponential tail ``share * exp(-(score - threshold) /
    mean_excess)``, so rows beyond every training row keep their order.

    Parameters
    ----------
    scores : torch.Tensor of shape (n_rows,)
        Scores to place among the training rows.
    calibration : ndarray of shape (n_train + 2,)
        From :func:`fit_tail`. The training scores are compared in ``scores``' dtype.
    share : float, default=TAIL_SHARE
        The ``share`` given to :func:`fit_tail`.

    Returns
    -------
    torch.Tensor of shape (n_rows,)
        The surprises, higher for rarer scores.
    """
    threshold, mean_excess = float(calibration[0]), float(calibration[1])
    reference = torch.as_tensor(calibration[2:], dtype=scores.dtype, device=scores.device)
    n = len(reference)
    at_least = n - torch.searchsorted(reference, scores.contiguous(), side="left")
    empirical = -torch.log((at_least + 0.5).to(scores.dtype) / (n + 1))
    extrapolated = -math.log(share) + (scores - threshold) / mean_excess
    # -log of the smaller share, in logs: the exponential tail underflows far out.
    return torch.where(scores > threshold, torch.maximum(empirical, extrapolated), empirical)
