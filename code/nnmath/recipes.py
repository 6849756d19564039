"""Part V's training recipe, in one place: the book's chapter, the benchmark and the tests
train the convolutional network with it.

:data:`CNN_RECIPE` is the configuration (every number that changes the result, so that
:func:`nnmath.runs.cached_run` can key a stored run by it); :func:`cnn_data` splits
MNIST's training set into the recipe's training and dev sets; :func:`train_cnn` trains
one network. The recipe was chosen on the dev set: see ``code/nnmath/models/README.md``
and the chapter on convolutional networks.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import numpy as np

from nnmath import data, distort, optim, train
from nnmath.cnn import CNN

__all__ = ["CNN_RECIPE", "cnn_data", "cnn_from", "train_cnn"]

#: The convolutional network's recipe (see the module's docstring).
CNN_RECIPE: dict[str, Any] = {
    "channels": [16, 32],
    "kernel": 5,
    "hidden": [128],
    "optimizer": "adam",
    "lr0": 2e-3,
    "schedule": "cosine",
    "epochs": 30,
    "batch_size": 128,
    "distort": dict(distort.GENTLE),
    "dev_size": 5000,
    "split_seed": 0,
    "seed": 0,
}

Data = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def cnn_data(mnist: data.MNIST, config: Mapping[str, Any] = CNN_RECIPE) -> Data:
    """``X, y, X_dev, y_dev``: MNIST's training set without the dev set, and the dev set.

    Columns ``(784, m)`` float32 in [0, 1] and integer labels; ``config["dev_size"]``
    images, drawn with ``config["split_seed"]``, are the dev set.
    """
    images, labels, dev_images, dev_labels = data.train_dev_split(
        mnist.train_images, mnist.train_labels, dev_size=config["dev_size"],
        seed=config["split_seed"],
    )

    def columns(x: np.ndarray) -> np.ndarray:
        return data.scale_pixels(data.to_columns(x))

    return (columns(images), labels.astype(np.intp), columns(dev_images),
            dev_labels.astype(np.intp))


def cnn_from(config: Mapping[str, Any], params: list[np.ndarray] | None = None) -> CNN:
    """The network ``config`` describes, with ``params`` (as trained) when given."""
    model = CNN(config["channels"], config["kernel"], config["hidden"], seed=config["seed"])
    if params is not None:
        model.set_params(params)
    return model


def train_cnn(
    config: Mapping[str, Any], data: Data, *, blas_threads: int | None = None
) -> tuple[list[np.ndarray], dict[str, Any]]:
    """Train ``config``'s network on ``data`` (:func:`cnn_data`); return (params, history).

    Adam with a cosine schedule from ``lr0``, and a fresh distortion of every training
    image in every epoch (:func:`nnmath.distort.distort_batch` with ``config["distort"]``).
    The history is :meth:`nnmath.train.History.to_dict`. ``blas_threads`` (None: as is)
    limits the matrix products' threads.
    """
    if config["optimizer"] != "adam" or config["schedule"] != "cosine":
        raise ValueError(
            f"config: expected optimizer 'adam' with schedule 'cosine', got "
            f"{config['optimizer']!r} with {config['schedule']!r}"
        )
    X, y, X_dev, y_dev = data
    model = cnn_from(config)
    options = dict(config["distort"])
    for key in ("scale", "aspect", "pens"):
        options[key] = tuple(options[key])
    history = train.fit(
        model, optim.Adam(config["lr0"]), X, y,
        epochs=config["epochs"], batch_size=config["batch_size"], seed=config["seed"],
        X_dev=X_dev, y_dev=y_dev,
        schedule=functools.partial(optim.cosine_schedule, lr0=config["lr0"],
                                   total=config["epochs"]),
        transform=functools.partial(distort.distort_batch, **options),
        blas_threads=blas_threads,
    )
    return [p.copy() for p in model.params], history.to_dict()
