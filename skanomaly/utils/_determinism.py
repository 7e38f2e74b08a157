"""Deterministic torch algorithms for the length of a fit, without leaking the setting.

Seeding makes the *random* part of a fit reproducible; on CUDA the arithmetic is not, unless
torch is told so: cuDNN may pick its convolution algorithm by timing it
(``torch.backends.cudnn.benchmark``) or use non-deterministic ones, and some kernels
accumulate with atomics. Refitting GenIAS with the same ``random_state`` on an H100 gave other
scores for that reason (issue 17). :func:`deterministic_algorithms` switches torch to its
deterministic algorithms inside a block and restores the caller's settings afterwards (also
on errors): they are process-wide, like the thread count (see ``_threads``).

cuBLAS: in deterministic mode torch refuses (with ``warn_only``: warns about) CUDA matrix
products unless the ``CUBLAS_WORKSPACE_CONFIG`` environment variable is ``:4096:8`` or
``:16:8``. torch reads the variable once per process, at its first cuBLAS product (the check
and the workspace size are then cached, PyTorch ``Context.cpp`` / ``CublasHandlePool.cpp``),
so setting it at run time works only before the process's first CUDA matrix product. The
block sets it (when the caller has not) and removes it afterwards: a fresh process whose
first CUDA product is a skanomaly fit is fully covered. A process that multiplied matrices
on CUDA before without the variable gets torch's warning at each fit, and its products use
the default workspace; NVIDIA documents cuBLAS results as reproducible with it as long as a
single stream is used (cuBLAS documentation, "Results reproducibility"), which is the case
of the training loop. To be covered whatever ran before, start Python with
``CUBLAS_WORKSPACE_CONFIG=:4096:8`` in the environment.

Operations without a deterministic CUDA implementation do not fail: torch is switched on
with ``warn_only=True`` (a ``UserWarning`` names the operation), unless the caller had already
asked for the strict mode, which is kept. Such operations may then differ between refits in
the last float32 digits.
"""

import contextlib
import os
import sys

__all__ = ["deterministic_algorithms"]

_CUBLAS_VARIABLE = "CUBLAS_WORKSPACE_CONFIG"
_CUBLAS_DETERMINISTIC = ":4096:8"


@contextlib.contextmanager
def deterministic_algorithms(device=None):
    """Torch's deterministic algorithms inside the block; the caller's settings after it.

    Inside: ``torch.use_deterministic_algorithms(True, warn_only=True)`` (or the caller's
    strict mode, kept), ``torch.backends.cudnn.deterministic = True``,
    ``torch.backends.cudnn.benchmark = False``,
    ``torch.utils.deterministic.fill_uninitialized_memory = False`` and, for a CUDA ``device``,
    ``CUBLAS_WORKSPACE_CONFIG=:4096:8`` when the caller has not set it (see the module
    docstring for what that can and cannot do at run time).

    Parameters
    ----------
    device : torch.device or None, default=None
        The device the block computes on; only CUDA sets the cuBLAS variable.

    Examples
    --------
    >>> import torch
    >>> from skanomaly.utils._determinism import deterministic_algorithms
    >>> before = torch.are_deterministic_algorithms_enabled()
    >>> with deterministic_algorithms(torch.device("cpu")):
    ...     torch.are_deterministic_algorithms_enabled()
    True
    >>> torch.are_deterministic_algorithms_enabled() == before
    True
    """
    import torch

    cudnn = torch.backends.cudnn
    fill = torch.utils.deterministic
    saved = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        cudnn.deterministic,
        cudnn.benchmark,
        fill.fill_uninitialized_memory,
    )
    set_variable = (
        device is not None
        and getattr(device, "type", None) == "cuda"
        and _CUBLAS_VARIABLE not in os.environ
    )
    try:
        if set_variable:
            os.environ[_CUBLAS_VARIABLE] = _CUBLAS_DETERMINISTIC
        if not (saved[0] and not saved[1]):  # a caller's strict mode stays strict
            _use_deterministic_algorithms(True, warn_only=True)
        cudnn.deterministic = True
        cudnn.benchmark = False
        # Deterministic mode also fills every new torch.empty with NaN, a cost on each step
        # (one noisy run: ASTER's CPU fit 11.9 s with the filling, 10.3 s without; with it
        # off, as fast as outside the block) for code that reads uninitialised memory,
        # which the modules here never do.
        fill.fill_uninitialized_memory = False
        yield
    finally:
        _use_deterministic_algorithms(saved[0], warn_only=saved[1])
        cudnn.deterministic, cudnn.benchmark = saved[2], saved[3]
        fill.fill_uninitialized_memory = saved[4]
        if set_variable:
            os.environ.pop(_CUBLAS_VARIABLE, None)


def _use_deterministic_algorithms(mode, warn_only):
    """``torch.use_deterministic_algorithms`` without importing torch's compiler.

    Recent torch versions also set ``torch._inductor.config.deterministic`` there, importing
    the inductor: 2.0-2.4 s on a 2-core machine (torch 2.13), once per process, i.e. on every
    first fit, while skanomaly's fits run eagerly. The eager switch is the one torch's own
    function sets after that import; where the inductor is already loaded (a caller who
    compiles), or torch lacks the switch, torch's function is called as it is.
    """
    import torch

    eager_switch = getattr(torch._C, "_set_deterministic_algorithms", None)
    if eager_switch is None or "torch._inductor.config" in sys.modules:
        torch.use_deterministic_algorithms(mode, warn_only=warn_only)
    else:
        eager_switch(mode, warn_only=warn_only)
