"""The judge: a small network that tells whether a stretch of a row holds one digit.

The digit network reads anything it is shown as a digit, and reads a sliver of a 0 or two
touching digits as confidently as a whole digit: it was never shown anything else. The
row reader (:func:`nnmath.segment.read_row`) therefore asks a second network, trained on
the stretches that the reader itself considers in composed rows, each labelled by where
its ink came from (:func:`holds_one_digit`). Its input is :func:`nnmath.segment.judge_columns`.

``python -m nnmath.judge OUT.npz`` trains :data:`JUDGE_RECIPE` and writes the model; the
shipped ``nnmath/models/judge.npz`` was made so.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from nnmath import data, model_io, optim, seeding, segment, train
from nnmath.mlp import MLP
from nnmath.preprocess import ink_to_digit

__all__ = ["JUDGE_RECIPE", "holds_one_digit", "judge_examples", "main", "train_judge"]

#: The shipped judge: strips composed from the digit network's training images (its dev
#: images are held out, as in :data:`nnmath.recipes.CNN_RECIPE`), 786-128-2, Adam.
JUDGE_RECIPE: dict[str, Any] = {
    "sizes": [segment.JUDGE_INPUTS, 128, 2],
    "strips": 6000,
    "dev_strips": 500,
    "dev_size": 5000,
    "split_seed": 0,
    "lr": 1e-3,
    "epochs": 15,
    "batch_size": 128,
    "seed": 0,
}


def holds_one_digit(got: np.ndarray, totals: np.ndarray, *, share: float = 0.9) -> bool:
    """Whether a stretch holds one whole digit and little else.

    ``got`` ``(n,)`` counts the stretch's ink pixels from each digit of the row, ``totals``
    ``(n,)`` each digit's ink pixels in the row. Yes when, for the digit i it holds most
    of, it holds at least ``share`` of that digit's ink, and the other digits' ink in it
    is at most 1 - ``share`` of digit i's.
    """
    i = int(np.argmax(got))
    others = got.sum() - got[i]
    return bool(got[i] > 0 and got[i] >= share * totals[i] and others <= (1 - share) * got[i])


def judge_examples(
    images: np.ndarray, labels: np.ndarray, strips: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The judge's examples from ``strips`` composed rows: ``(X (786, s), y (s,))``.

    Each row is :func:`nnmath.segment.compose_row` of ``images`` ``(m, 28, 28)``; every
    stretch the reader would consider (:func:`nnmath.segment.stretches` of every piece of
    :func:`nnmath.segment.find_pieces`) is one example, labelled 1 when
    :func:`holds_one_digit`.
    """
    threshold = segment.COMPONENT_INK
    X, y = [], []
    for _ in range(strips):
        composed, _, owner = segment.compose_row(images, labels, rng)
        strip = segment.row_ink(composed)
        found, pieces = segment.find_pieces(strip, max_aspect=None)
        height = float(np.median([p.height for p in pieces]))
        inked = strip > threshold
        n = int(owner.max()) + 1
        totals = np.bincount(owner[inked], minlength=n)
        for piece in pieces:
            cuts, pairs, crops = segment.stretches(
                strip, found, piece, threshold, 1.3 * height
            )
            own = np.isin(found, list(piece.labels)) & inked
            columns = np.arange(strip.shape[1])
            for a, b in pairs:
                inside = (columns >= piece.left + cuts[a]) & (columns < piece.left + cuts[b])
                got = np.bincount(owner[own & inside[None, :]], minlength=n)
                y.append(holds_one_digit(got, totals))
            if crops:
                X.append(segment.judge_columns(
                    np.stack([ink_to_digit(crop) for crop in crops], axis=1), crops, height
                ))
    return np.concatenate(X, axis=1), np.array(y, dtype=np.int64)


def train_judge(
    config: Mapping[str, Any] = JUDGE_RECIPE, *, blas_threads: int | None = None
) -> tuple[MLP, train.History]:
    """Train a judge by ``config``: examples from the training images, checked on the dev's."""
    mnist = data.load_mnist()
    train_images, train_labels, dev_images, dev_labels = data.train_dev_split(
        mnist.train_images, mnist.train_labels, config["dev_size"], config["split_seed"]
    )
    draws = seeding.rng(config["seed"])
    X, y = judge_examples(train_images, train_labels, config["strips"], draws)
    X_dev, y_dev = judge_examples(dev_images, dev_labels, config["dev_strips"], draws)
    model = MLP(config["sizes"], seed=config["seed"])
    history = train.fit(
        model, optim.Adam(config["lr"]), X, y, epochs=config["epochs"],
        batch_size=config["batch_size"], seed=config["seed"], X_dev=X_dev, y_dev=y_dev,
        blas_threads=blas_threads,
    )
    return model, history


def main(argv: list[str] | None = None) -> int:
    """``python -m nnmath.judge OUT.npz``: train :data:`JUDGE_RECIPE`, write the model."""
    parser = argparse.ArgumentParser(prog="python -m nnmath.judge", description=main.__doc__)
    parser.add_argument("out", type=Path, help="the model file to write (.npz)")
    args = parser.parse_args(argv)
    if not args.out.parent.is_dir():
        parser.exit(2, f"error: {args.out}: folder {args.out.parent} does not exist\n")
    model, history = train_judge()
    model_io.save_model(args.out, model, metadata={
        "preprocessing": "nnmath.segment.judge_columns: a stretch prepared as a digit "
        "(784) and its ink width and height over the row's median piece height",
        "recipe": JUDGE_RECIPE,
        "classes": ["not one digit", "one digit"],
        "dev_accuracy": history.dev_accuracy[-1],
    })
    print(f"{args.out}: dev accuracy {history.dev_accuracy[-1]:.2%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
