"""The fast paths: the same mathematics as the taught modules, arranged for speed.

:mod:`nnmath.twolayer`, :mod:`nnmath.mlp`, :mod:`nnmath.cnn` and :mod:`nnmath.train` hold
the equations and the plain loops that the book teaches. The modules here compute the same
results faster (blocks of examples that stay in the processor's cache, threads, a flat
parameter vector, reused buffers, BLAS thread settings, another memory layout), with the
equation each fast line computes written above it, and a test for each that the fast path
equals the plain one:

- :mod:`nnmath.fast.twolayer`: Part I's full-batch gradient in blocks and threads, and
  ``gradient_descent`` built on it;
- :mod:`nnmath.fast.mlp`: one epoch of mini-batch training with a flat parameter vector
  and a reused batch buffer, what :func:`nnmath.train.fit` runs by default;
- :mod:`nnmath.fast.cnn`: one epoch of the convolutional network with its maps stored
  channels last, what ``fit`` runs for a :class:`~nnmath.cnn.CNN`.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

from threadpoolctl import threadpool_limits

__all__ = ["blas_threads"]


def blas_threads(limit: int | None) -> AbstractContextManager[object]:
    """A context in which matrix products use at most ``limit`` BLAS threads (None: as is)."""
    if limit is None:
        return nullcontext()
    return threadpool_limits(limits=limit, user_api="blas")
