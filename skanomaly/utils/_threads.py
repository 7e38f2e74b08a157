"""How many torch threads a fit or a scoring pass uses, and setting them without leaking.

``torch.set_num_threads`` is process-global and torch's default is one thread per core. A
small network (a few thousand weights, batches of 128 rows) gains nothing from a second
thread on a quiet machine, and loses several times its speed as soon as another process
keeps a core busy: every operator ends in a barrier that waits for a descheduled thread.
So the torch estimators size the thread count to the work of one step (weights x rows x
positions), never above the caller's own setting, and restore that setting afterwards.

torch is imported lazily: importing this module costs nothing (the benchmark runner uses it
for cells that may not touch torch at all).
"""

import contextlib
from numbers import Integral

__all__ = [
    "auto_torch_threads",
    "resolve_torch_threads",
    "rows_per_thread",
    "torch_thread_limit",
    "work_per_row",
]

# Multiply-adds of one step that keep one more thread busy long enough to pay for its
# synchronisation: 2**24 (16.8M) is a few milliseconds of one core, against the tens of
# microseconds of a fork/join on a quiet machine and the scheduler quanta (milliseconds) it
# can cost on a loaded one. A 21 -> 64 -> 32 -> 8 auto-encoder at batch 128 is 0.7M: one thread.
_WORK_PER_THREAD = 2**24


def auto_torch_threads(work, limit=None):
    """Threads for a step of ``work`` multiply-adds: one per ``2**24``, between 1 and ``limit``.

    Parameters
    ----------
    work : int
        Multiply-adds of one step (e.g. weights x rows x time steps of a batch).
    limit : int or None, default=None
        Upper bound; ``None`` uses the caller's ``torch.get_num_threads()``.

    Returns
    -------
    n_threads : int

    Examples
    --------
    >>> from skanomaly.utils._threads import auto_torch_threads
    >>> auto_torch_threads(5_000 * 128, limit=8)  # a small MLP at batch 128
    1
    >>> auto_torch_threads(2_000_000 * 128, limit=8)  # a large one
    8
    """
    if limit is None:
        import torch

        limit = torch.get_num_threads()
    return int(max(1, min(limit, work // _WORK_PER_THREAD)))


def resolve_torch_threads(torch_threads, module, rows, sample_shape):
    """The thread count of an estimator's ``torch_threads`` parameter for one kind of step.

    Parameters
    ----------
    torch_threads : "auto", int >= 1 or None
        The parameter. ``"auto"`` sizes it to the step (:func:`auto_torch_threads`, at most
        the caller's setting); an int is used as is; ``None`` keeps the caller's setting.
    module : torch.nn.Module
        The network; its weight count measures the work per row.
    rows : int
        Rows per step (the batch size for training, the chunk size for scoring).
    sample_shape : tuple of int
        Shape of one sample: ``(n_features,)`` or ``(window, n_channels)``; every weight of a
        temporal network is used once per time step, so the window length multiplies the work.

    Returns
    -------
    n_threads : int or None
        ``None`` when the caller's setting is kept.
    """
    if torch_threads is None or (
        isinstance(torch_threads, Integral) and not isinstance(torch_threads, bool)
    ):
        return torch_threads
    return auto_torch_threads(work_per_row(module, sample_shape) * rows)


def work_per_row(module, sample_shape):
    """Multiply-adds of one sample, estimated as weights x time steps (x 1 for rows): every
    weight of a temporal network is used once per time step of ``sample_shape``."""
    n_weights = sum(p.numel() for p in module.parameters())
    positions = sample_shape[0] if len(sample_shape) > 1 else 1
    return n_weights * positions


def rows_per_thread(module, sample_shape):
    """Rows whose work keeps one thread busy (``2**24`` multiply-adds; at least 0)."""
    return _WORK_PER_THREAD // max(1, work_per_row(module, sample_shape))


@contextlib.contextmanager
def torch_thread_limit(n_threads):
    """Run the block with ``torch.set_num_threads(n_threads)``, then restore the caller's.

    ``None`` leaves torch's setting alone. The caller's count is restored in ``finally``, so
    an exception inside (or ``KeyboardInterrupt``) does not leak the setting into the rest of
    the process.

    Parameters
    ----------
    n_threads : int or None
        Intra-op threads inside the block.

    Examples
    --------
    >>> import torch
    >>> from skanomaly.utils._threads import torch_thread_limit
    >>> before = torch.get_num_threads()
    >>> with torch_thread_limit(1):
    ...     torch.get_num_threads()
    1
    >>> torch.get_num_threads() == before
    True
    """
    if n_threads is None:
        yield
        return
    import torch

    previous = torch.get_num_threads()
    if n_threads == previous:
        yield
        return
    torch.set_num_threads(int(n_threads))
    try:
        yield
    finally:
        torch.set_num_threads(previous)
