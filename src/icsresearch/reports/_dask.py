"""Dask pieces of the batch (imported only with ``--scheduler``)."""

from __future__ import annotations

from distributed import WorkerPlugin


class KernelPoolPlugin(WorkerPlugin):
    """Shut a Dask worker's pooled report kernels down when the worker closes."""

    idempotent = True
    name = "icsresearch-kernel-pool"

    def teardown(self, worker) -> None:
        """Stop every kernel the worker process started for reports."""
        from .executor import POOL

        POOL.shutdown()
