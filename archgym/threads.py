"""The one "torch on one thread" helper.

The networks and GPs this project trains (RL policies, BO surrogates, MLP proxies) are tiny:
intra-op threads only contend with the simulator and with parallel runs, make timings depend
on how busy the machine is, and can change results in the last bits. Every torch user runs
inside :func:`one_thread`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def one_thread() -> Iterator[None]:
    """Run torch and the BLAS/OpenMP pools on one thread; restored afterwards."""
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(1):
            yield
    finally:
        torch.set_num_threads(before)
