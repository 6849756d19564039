"""Reading a row of digits: components, specks, broken and touching digits, whole strings."""

from __future__ import annotations

from itertools import combinations, pairwise

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from nnmath.data import scale_pixels, to_columns
from nnmath.model_io import load_default_model
from nnmath.preprocess import ImageError, crop_to_ink
from nnmath.segment import (
    Piece,
    best_cuts,
    compose_strip,
    connected_components,
    cut_candidates,
    read_row,
    segment_row,
)


def _flood_fill(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """The slow, obvious 8-connected labelling, numbered in raster order."""
    labels = np.zeros(mask.shape, dtype=int)
    n = 0
    for start in zip(*np.nonzero(mask), strict=True):
        if labels[start]:
            continue
        n += 1
        labels[start] = n
        stack = [start]
        while stack:
            r, c = stack.pop()
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    rr, cc = r + dr, c + dc
                    inside = 0 <= rr < mask.shape[0] and 0 <= cc < mask.shape[1]
                    if inside and mask[rr, cc] and not labels[rr, cc]:
                        labels[rr, cc] = n
                        stack.append((rr, cc))
    return labels, n


def _row(*blocks: tuple[int, int, int, int], shape=(40, 120)) -> np.ndarray:
    """Ink 1 in the rectangles (top, bottom, left, right) on a black row."""
    ink = np.zeros(shape, np.float32)
    for top, bottom, left, right in blocks:
        ink[top:bottom, left:right] = 1
    return ink


@pytest.fixture(scope="module")
def model():
    return load_default_model()[0]


@pytest.fixture(scope="module")
def clear_digits(mnist, model):
    """Test images ``(k, 28, 28)`` and labels the default model reads right, alone, and
    whose ink above COMPONENT_INK is one piece (a faint, thin digit may break in two)."""
    images, labels = mnist.test_images[:2000], mnist.test_labels[:2000]
    right = model.predict(scale_pixels(to_columns(images))) == labels
    whole = np.array(
        [connected_components(scale_pixels(image))[1] == 1 for image in images]
    )
    return images[right & whole], labels[right & whole]


# --------------------------------------------------------------------------- components


def test_components_join_diagonal_neighbours() -> None:
    ink = np.array(
        [
            [1, 0, 0, 1],
            [0, 1, 0, 1],
            [0, 0, 0, 0],
            [1, 1, 0, 0],
        ],
        dtype=np.float32,
    )
    labels, n = connected_components(ink, threshold=0.5)
    assert n == 3
    assert labels.dtype == np.int32
    expected = [[1, 0, 0, 2], [0, 1, 0, 2], [0, 0, 0, 0], [3, 3, 0, 0]]
    assert np.array_equal(labels, expected)


def test_a_u_shape_is_one_component() -> None:
    """Two runs that meet only at the bottom: the later join must relabel the first."""
    ink = _row((0, 10, 0, 2), (0, 10, 8, 10), (9, 10, 0, 10), shape=(10, 10))
    labels, n = connected_components(ink)
    assert n == 1
    assert np.array_equal(labels > 0, ink > 0)


def test_a_long_snake_is_one_component() -> None:
    """A zig-zag path many rows long: the union-find must converge, not stop early."""
    ink = np.zeros((61, 20), np.float32)
    ink[::2] = 1  # every other row full ...
    ink[1::4, -1] = 1  # ... joined alternately at the right
    ink[3::4, 0] = 1  # ... and at the left
    _, n = connected_components(ink)
    assert n == 1


def test_components_respect_the_threshold_and_empty_images() -> None:
    ink = np.array([[0.9, 0.15, 0.9]], np.float32)
    assert connected_components(ink, threshold=0.1)[1] == 1
    assert connected_components(ink, threshold=0.2)[1] == 2
    labels, n = connected_components(np.zeros((5, 7)))
    assert n == 0 and not labels.any()
    with pytest.raises(ValueError, match="2-D"):
        connected_components(np.zeros((2, 3, 3)))


@settings(max_examples=60, deadline=None)
@given(arrays(np.bool_, st.tuples(st.integers(1, 14), st.integers(1, 14))))
def test_components_match_a_flood_fill(mask: np.ndarray) -> None:
    labels, n = connected_components(mask.astype(np.float32), threshold=0.5)
    expected, k = _flood_fill(mask)
    assert n == k
    assert np.array_equal(labels, expected)


# --------------------------------------------------------------------------- segmentation


def test_separate_blocks_come_out_left_to_right() -> None:
    ink = _row((10, 30, 70, 84), (10, 30, 5, 12), (12, 28, 30, 48))
    crops = segment_row(ink)
    assert [c.shape[1] for c in crops] == [7, 18, 14]
    assert [c.shape[0] for c in crops] == [20, 16, 20]
    assert all(c.dtype == np.float32 for c in crops)


def test_specks_are_dropped() -> None:
    ink = _row((10, 30, 5, 12), (12, 28, 30, 48))
    ink[2, 60] = ink[35, 100] = ink[20, 22] = 1  # dust
    ink[5:7, 90:92] = 1
    assert [c.shape[1] for c in segment_row(ink)] == [7, 18]


@pytest.mark.parametrize(
    ("bar", "shape"),
    [
        ((6, 9, 14, 30), (26, 20)),  # the bar mostly within the body's columns
        ((6, 9, 20, 34), (26, 24)),  # the bar sticking out: one above the other
    ],
)
def test_a_digit_in_two_pieces_is_one_digit(bar, shape) -> None:
    """The bar and the body of a broken 5: columns overlapping, one above the other."""
    body = (12, 32, 10, 26)
    ink = _row(bar, body, (10, 30, 50, 64))
    assert connected_components(ink)[1] == 3
    crops = segment_row(ink)
    assert len(crops) == 2
    assert crops[0].shape == shape  # rows 6..31, columns from 10 to the bar's end


def test_side_by_side_pieces_stay_apart() -> None:
    """Boxes overlapping by a column or two, at the same height: two digits."""
    ink = _row((10, 30, 10, 26), (10, 30, 28, 44))
    ink[10:30, 26:28] = 0
    ink[10:12, 24:30] = 0
    ink[12:14, 26:27] = 1  # the first digit's tail reaches over the second's box ...
    ink[20:22, 25:26] = 0  # ... without touching it
    assert connected_components(ink)[1] == 2
    assert len(segment_row(ink)) == 2


def test_touching_digits_are_cut_at_the_thinnest_column() -> None:
    ink = _row(
        (10, 30, 10, 26), (19, 21, 26, 30), (10, 30, 30, 46)
    )  # two joined blocks
    assert connected_components(ink)[1] == 1
    crops = segment_row(ink)
    assert len(crops) == 2
    left, right = crops
    assert 16 <= left.shape[1] <= 20 and 16 <= right.shape[1] <= 20
    assert left.shape[1] + right.shape[1] == 36


def test_three_touching_digits_are_cut_in_three() -> None:
    ink = _row((10, 30, 5, 50))
    ink[10:30, [19, 35]] = 0.6  # faint joins, above COMPONENT_INK
    crops = segment_row(ink)
    assert [c.shape[1] for c in crops] == [14, 16, 15]


def test_touching_mnist_digits_are_separated(clear_digits) -> None:
    images, labels = clear_digits
    a, b = (crop_to_ink(x / 255, threshold=0.5) for x in images[labels == 0][:2])
    strip = np.zeros((28, 80), np.float32)
    strip[2 : 2 + a.shape[0], 4 : 4 + a.shape[1]] = a
    left = 4 + a.shape[1] - 1  # the second starts on the first's last column
    region = strip[2 : 2 + b.shape[0], left : left + b.shape[1]]
    np.maximum(region, b, out=region)
    assert connected_components(strip)[1] == 1, "the test needs the two to touch"
    assert len(segment_row(strip)) == 2


def test_a_known_number_of_digits_is_enforced() -> None:
    ink = _row((10, 30, 5, 20), (10, 30, 25, 40), (10, 30, 45, 60), (10, 30, 65, 89))
    assert len(segment_row(ink)) == 4  # the last block is not wide enough to cut
    assert len(segment_row(ink, digits=5)) == 5
    assert len(segment_row(ink, digits=3)) == 3


def test_an_empty_row_has_no_digits() -> None:
    assert segment_row(np.zeros((20, 50))) == []


# --------------------------------------------------------------------------- test strips


def test_compose_strip_is_seeded(mnist) -> None:
    a = compose_strip(mnist.test_images, mnist.test_labels, np.random.default_rng(4))
    b = compose_strip(mnist.test_images, mnist.test_labels, np.random.default_rng(4))
    c = compose_strip(mnist.test_images, mnist.test_labels, np.random.default_rng(5))
    strip, text = a
    assert np.array_equal(strip, b[0]) and text == b[1]
    assert text != c[1] or not np.array_equal(strip, c[0])
    assert len(text) == 5 and text.isdigit()
    assert strip.dtype == np.float32 and strip.shape[0] == 36
    assert 0 <= strip.min() and strip.max() <= 1
    assert not strip[:, :3].any() and not strip[:, -3:].any()  # margins


def test_compose_strip_checks_its_input(mnist) -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="expected"):
        compose_strip(mnist.test_images[:5], mnist.test_labels[:4], rng)
    with pytest.raises(ValueError, match="height"):
        compose_strip(mnist.test_images, mnist.test_labels, rng, height=10)


# --------------------------------------------------------------------------- best cuts


def _brute_force(scores: np.ndarray, j: int) -> float:
    """The best total over every way to choose j - 1 inner cuts, tried one by one."""
    c = scores.shape[0]
    best = -np.inf
    for inner in combinations(range(1, c - 1), j - 1):
        path = [0, *inner, c - 1]
        best = max(best, sum(scores[a, b] for a, b in pairwise(path)))
    return best


@pytest.mark.equation("eq-best-cuts")
@settings(max_examples=40, deadline=None)
@given(st.integers(2, 7), st.integers(0, 2**32 - 1))
def test_best_cuts_finds_the_best_path_for_every_count(c: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    scores = np.log(rng.random((c, c)))
    scores[rng.random((c, c)) < 0.3] = -np.inf  # stretches where no digit may lie
    scores[np.tril_indices(c)] = -np.inf  # a stretch goes left to right
    found = best_cuts(scores, c - 1)
    for j, (total, path) in enumerate(found, start=1):
        expected = _brute_force(scores, j)
        if np.isinf(expected):
            assert np.isinf(total) and path == []
            continue
        assert np.isclose(total, expected)
        assert path[0] == 0 and path[-1] == c - 1 and len(path) == j + 1
        assert np.isclose(sum(scores[a, b] for a, b in pairwise(path)), total)


@pytest.mark.equation("eq-best-cuts")
def test_best_cuts_prefers_two_sure_digits_to_one_unsure() -> None:
    scores = np.full((3, 3), -np.inf)
    scores[0, 2] = np.log(0.5)  # the whole piece, read as one digit, unsure
    scores[0, 1] = scores[1, 2] = np.log(0.9)  # two halves, each read surely
    (one, path_1), (two, path_2) = best_cuts(scores, 2)
    assert path_1 == [0, 2] and path_2 == [0, 1, 2] and two > one


def test_cut_candidates_are_the_ends_and_the_columns_of_least_ink() -> None:
    ink = np.zeros((10, 12), np.float32)
    ink[:, [0, 1, 2, 4, 5, 6, 7, 9, 10, 11]] = 1  # two gaps of ink: columns 3 and 8
    ink[:5, 3] = ink[:3, 8] = 1
    labels, _ = connected_components(np.ones_like(ink))
    piece = Piece(frozenset({1}), 0, 12, 0, 10, 120)
    assert cut_candidates(ink, labels, piece).tolist() == [0, 3, 8, 12]


# --------------------------------------------------------------------------- reading


def test_read_row_reads_a_well_spaced_row(clear_digits, model) -> None:
    images, labels = clear_digits
    rng = np.random.default_rng(11)
    for _ in range(5):
        strip, text = compose_strip(images, labels, rng, gap=(4, 9), scale=(1, 1))
        read, P = read_row(strip, model)
        assert read == text
        assert P.shape == (10, 5)
        assert np.allclose(P.sum(axis=0), 1, atol=1e-5)


def test_read_row_reads_ink_on_paper_alike(clear_digits, model) -> None:
    images, labels = clear_digits
    strip, text = compose_strip(images, labels, np.random.default_rng(3), gap=(4, 9))
    paper = np.round(255 * (1 - strip)).astype(np.uint8)
    rgb = np.stack([paper, paper, paper], axis=-1)
    read, P = read_row(strip, model)
    read_rgb, P_rgb = read_row(rgb, model)
    assert read_rgb == read == text
    assert np.allclose(P_rgb, P, atol=0.02)


def test_read_row_ignores_specks_and_joins_a_broken_digit(clear_digits, model) -> None:
    images, labels = clear_digits
    strip, text = compose_strip(images, labels, np.random.default_rng(8), gap=(5, 9))
    rng = np.random.default_rng(0)
    dirty = strip.copy()
    for r, c in zip(
        rng.integers(0, 36, 6), rng.integers(0, strip.shape[1], 6), strict=True
    ):
        dirty[r, c] = 1
    assert read_row(dirty, model)[0] == text
    broken = strip.copy()
    columns = np.flatnonzero(strip.any(axis=0))
    first = columns[: np.argmax(np.diff(columns) > 1) + 1]  # the first digit's columns
    rows = np.flatnonzero(strip[:, first].any(axis=1))
    middle = rows[len(rows) // 2]
    broken[middle - 1 : middle + 1, first] = 0  # a scan line lost across the digit
    assert connected_components(broken)[1] > connected_components(strip)[1]
    assert len(read_row(broken, model)[0]) == 5


def test_read_row_with_a_known_length(mnist, model) -> None:
    rng = np.random.default_rng(21)
    for _ in range(20):
        strip, _ = compose_strip(mnist.test_images, mnist.test_labels, rng, gap=(-3, 3))
        assert len(read_row(strip, model, digits=5)[0]) == 5


def test_whole_string_accuracy_on_composed_strips(mnist, model) -> None:
    """Most five-digit strips, touching digits included, are read entirely right."""
    rng = np.random.default_rng(2024)
    strips = [
        compose_strip(mnist.test_images, mnist.test_labels, rng) for _ in range(200)
    ]
    right = sum(read_row(strip, model)[0] == text for strip, text in strips)
    # seen (AMD EPYC, OpenBLAS): 170 (85%), and 162 without the judge; seeds 2025 and
    # 2026 gave 181 and 174. The bar is two standard errors (2.5 points) below 85%.
    assert right / 200 >= 0.80, f"{right} of 200 strips read right"


def test_read_row_refuses_an_empty_image(model) -> None:
    with pytest.raises(ImageError, match="no ink"):
        read_row(np.zeros((30, 90), np.uint8), model)
