"""Handwriting: the pen (trace, render), writers, scans, photos, writer sets, errors."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from nnmath import handwriting as hw
from nnmath.preprocess import prepare_digit
from PIL import Image, ImageFilter


@pytest.fixture(scope="module")
def small_set() -> hw.WriterSet:
    """Two writers, every digit twice: 40 scans and 40 photos."""
    return hw.writer_set(2, seed=8, per_digit=2)


def _border(image: np.ndarray) -> np.ndarray:
    """The pixels on the four edges of an image ``(h, w)`` or ``(h, w, c)``."""
    return np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])


def _writer(**style: float) -> hw.Writer:
    """A plain writer: upright, no jitter; ``style`` overrides any field."""
    fields = dict(slant=0.0, aspect=0.75, pen=0.1, jitter=0.0, rotation=0.0)
    return hw.Writer(allographs=(0,) * 10, **{**fields, **style})


# --------------------------------------------------------------------------- the pen


@pytest.mark.parametrize("pen", [1.0, 3.0, 6.0, 9.5])
def test_render_draws_a_line_as_wide_as_the_pen(pen):
    ink = hw.render([np.array([[15.0, 20.0], [35.0, 20.0]])], pen, (40, 50))
    assert ink.shape == (40, 50) and ink.dtype == np.float32
    assert ink.min() == 0 and ink.max() == 1
    column = ink[:, 25]
    assert column[20] == 1  # a pixel on the segment
    assert column.sum() == pytest.approx(pen, abs=0.01)  # ink per unit length = width
    assert abs(np.count_nonzero(column >= 0.5) - pen) <= 1  # about `pen` rows
    reach = pen / 2 + 0.5  # round ends: ink up to r + 1/2 from each end, none beyond
    left, right = int(np.floor(15 - reach)), int(np.ceil(35 + reach))
    assert ink[:, : left + 1].max() == 0 and ink[:, right:].max() == 0
    assert ink[20, left + 1] > 0 and ink[20, right - 1] > 0


def test_render_matches_a_brute_force_reference():
    rng = np.random.default_rng(7)
    for _ in range(20):
        h, w = (int(v) for v in rng.integers(8, 60, 2))
        strokes = [
            rng.uniform(-4, (w + 4, h + 4), (int(rng.integers(1, 12)), 2))
            for _ in range(int(rng.integers(1, 3)))
        ]
        pen = float(rng.uniform(0.5, 15))
        pressure = [rng.uniform(0.8, 1.2, len(s)) for s in strokes]
        y, x = np.mgrid[:h, :w]
        expected = np.zeros((h, w))
        for points, factor in zip(strokes, pressure, strict=True):
            if len(points) == 1:  # a dot
                points, factor = np.repeat(points, 2, axis=0), np.repeat(factor, 2)
            radii = pen / 4 * (factor[:-1] + factor[1:])
            for a, b, r in zip(points[:-1], points[1:], radii, strict=True):
                ab = b - a
                t = ((x - a[0]) * ab[0] + (y - a[1]) * ab[1]) / max(ab @ ab, 1e-12)
                t = np.clip(t, 0, 1)
                d = np.hypot(x - a[0] - t * ab[0], y - a[1] - t * ab[1])
                expected = np.maximum(expected, np.clip(r + 0.5 - d, 0, 1))
        ink = hw.render(strokes, pen, (h, w), pressure)
        np.testing.assert_allclose(ink, expected, atol=1e-4)


def test_render_pressure_widens_the_pen_and_a_dot_is_round():
    line = [np.array([[5.0, 20.0], [45.0, 20.0]])]
    thin = hw.render(line, 4.0, (40, 50))
    thick = hw.render(line, 4.0, (40, 50), pressure=[np.array([2.0, 2.0])])
    assert thick[:, 25].sum() == pytest.approx(8.0, abs=0.01)
    assert thin[:, 25].sum() == pytest.approx(4.0, abs=0.01)
    dot = hw.render([np.array([[10.0, 10.0]])], 6.0, (21, 21))
    np.testing.assert_allclose(dot, dot.T)
    np.testing.assert_allclose(dot, dot[::-1, ::-1])


def test_trace_passes_through_its_control_points():
    points = np.array([[0.0, 0.0], [1.0, 2.0], [3.0, 2.5], [4.0, 0.5], [2.0, -1.0]])
    curve = hw.trace(points, 400)
    assert curve.shape == (400, 2)
    np.testing.assert_allclose(curve[[0, -1]], points[[0, -1]])
    step = np.linalg.norm(np.diff(curve, axis=0), axis=1)
    nearest = np.linalg.norm(points[:, None] - curve[None], axis=2).min(axis=1)
    assert nearest.max() <= step.max()  # every control point lies on the sampled curve
    assert step.max() < 2 * step.mean()  # samples spread about evenly along it


def test_trace_makes_a_corner_at_a_repeated_point():
    curve = hw.trace([(0, 0), (1, 0), (1, 0), (1, 1)], 50)
    off = np.minimum(np.abs(curve[:, 1]), np.abs(curve[:, 0] - 1))
    assert off.max() < 1e-9  # the curve is the L itself: no rounding of the corner


# --------------------------------------------------------------------------- writers


def test_random_writer_stays_in_its_ranges():
    rng = np.random.default_rng(0)
    writers = [hw.random_writer(rng) for _ in range(400)]
    neatness = np.array([w.neatness for w in writers])
    assert 0 <= neatness.min() and neatness.max() <= 1
    assert 0.4 < np.mean(neatness < 0.5) < 0.6  # uniform: about half are hurried
    for name, low, high in [
        ("slant", -0.4, 0.7),
        ("aspect", 0.4, 1.25),
        ("pen", 0.04, 0.14),
        ("jitter", 0.015, 0.08),
        ("rotation", -0.2, 0.2),
        ("waist", 0.4, 0.6),
    ]:
        values = np.array([getattr(w, name) for w in writers])
        assert low <= values.min() and values.max() <= high, name
        assert values.max() - values.min() > 0.6 * (high - low), name  # real variety
    for w in writers:  # each within what their own hurry allows
        u = 1 - w.neatness
        assert -0.25 - 0.15 * u <= w.slant <= 0.35 + 0.35 * u
        assert 0.55 - 0.15 * u <= w.aspect <= 1.05 + 0.2 * u
        assert abs(w.rotation) <= 0.08 + 0.12 * u
        assert w.jitter <= 0.035 + 0.045 * u
    for d, forms in enumerate(hw.SKELETONS):
        used = {w.allographs[d] for w in writers}
        assert used == set(range(len(forms))), d  # every allograph is written


def test_hurried_writers_vary_more_than_neat_ones():
    rng = np.random.default_rng(3)
    writers = [hw.random_writer(rng) for _ in range(400)]
    hurried = np.array([w.neatness < 0.5 for w in writers])
    for name, middle in [
        ("slant", 0.1),
        ("aspect", 0.75),
        ("rotation", 0),
        ("jitter", 0),
    ]:
        off = np.abs(np.array([getattr(w, name) for w in writers]) - middle)
        assert off[hurried].mean() > 1.15 * off[~hurried].mean(), name


def test_a_hurried_hand_varies_more_from_one_digit_to_the_next():
    base = hw.random_writer(np.random.default_rng(4))

    def change(neatness: float) -> float:
        """The mean distance between two instances of each digit."""
        writer = dataclasses.replace(base, neatness=neatness)
        rng = np.random.default_rng(5)
        pairs = [
            [_normalise(hw.write_digit(d, writer, rng, 40)) for _ in range(2)]
            for d in np.repeat(np.arange(10), 3)
        ]
        return float(np.mean([np.linalg.norm(a - b) for a, b in pairs]))

    assert change(0.0) > 1.2 * change(1.0)


def test_a_hurried_pen_slips_and_a_careful_one_seldom_does():
    # a 7 without a crossbar, 60 pixels tall: one stroke with two free ends
    curves = [hw.trace([(0, 0), (40, 0), (40, 0), (10, 60)], 40)]
    rng = np.random.default_rng(0)

    def slipped(hurry: float) -> tuple[float, float]:
        """How often the stroke is broken in two, and its ends moved."""
        broken, moved = 0, 0
        for _ in range(300):
            out = hw._slips(curves, (7, 0), 60.0, 3.0, hurry, rng)
            broken += len(out) == 2
            ends = np.concatenate([out[0][:1], out[-1][-1:]])
            moved += not np.allclose(ends, curves[0][[0, -1]], atol=0.5)
        return broken / 300, moved / 300

    careful, hurried = slipped(0.0), slipped(1.0)
    assert careful[0] == 0 and 0.1 < hurried[0] < 0.3  # pen skips: only when hurried
    assert careful[1] < 0.25 < 0.5 < hurried[1]  # overshoots, stops short, ticks


def test_the_slips_lengthen_cut_and_hook_a_stroke():
    line = hw.trace([(0, 0), (30, 0)], 16)
    longer, shorter = hw._lengthen(line, 6.0, 2.0), hw._lengthen(line, -6.0, 2.0)
    assert hw._arc(longer)[-1] == pytest.approx(36) and longer[-1] == pytest.approx(
        [36, 0]
    )
    assert hw._arc(shorter)[-1] == pytest.approx(24)
    piece = hw._cut(line, 5.0, 12.0)
    assert piece[0] == pytest.approx([5, 0]) and piece[-1] == pytest.approx([12, 0])
    hooked = hw._hook(line, 4.0, np.random.default_rng(0))
    assert np.linalg.norm(hooked[0]) == pytest.approx(4) and abs(hooked[0, 1]) > 2
    np.testing.assert_array_equal(hooked[-len(line) :], line)
    # a circle of radius 20 begun and ended at the top: left open, or crossed over
    angle = np.linspace(0, 2 * np.pi, 60)
    circle = np.stack([20 * np.sin(angle), -20 * np.cos(angle)], axis=1)
    opened, crossed = hw._close(circle, -6.0, 2.0), hw._close(circle, 6.0, 2.0)
    assert hw._arc(opened)[-1] == pytest.approx(hw._arc(circle)[-1] - 6, abs=0.1)
    assert hw._arc(crossed)[-1] == pytest.approx(hw._arc(circle)[-1] + 6, abs=0.1)


def test_the_parts_that_tell_1_4_5_and_7_apart_stay_in_bounds():
    height = 100.0
    one = np.array([[-60.0, 5.0], [0, 0], [0, 0], [0, 100]])  # a long, flat flag
    flag = hw._flag(one, height)[0] - one[1]
    assert np.linalg.norm(flag) <= 25 + 1e-9
    assert flag[1] >= np.tan(np.radians(30)) * abs(flag[0]) - 1e-9
    # a 7 with a short bar, tilted, and its foot to the right
    seven = np.array([[40.0, 20.0], [60, 0], [60, 0], [90, 100]])
    out = hw._seven(seven, 0, height)
    bar, stem = out[0] - out[1], out[3] - out[1]
    assert np.linalg.norm(bar) >= 45 - 1e-9
    assert abs(np.arctan2(bar[1], -bar[0])) <= np.radians(20) + 1e-9
    assert -np.pi / 4 - 1e-9 <= np.arctan2(stem[0], stem[1]) <= np.radians(5) + 1e-9
    five = np.zeros((10, 2))
    five[9] = (20, -40)  # the flag rising steeply from the top of the stem, point 8
    flag = hw._five(five, 0, height)[9]
    assert abs(np.arctan2(flag[1], flag[0])) <= np.radians(15) + 1e-9
    assert np.linalg.norm(flag) >= 30 - 1e-9
    # a 4 whose bar stops at the stem and sits at its foot
    four = np.array([[50.0, 0], [10, 90], [10, 90], [52, 90], [50, 0], [50, 100]])
    out = hw._four(four, height)
    assert out[3, 0] >= 50 + 12 - 1e-9 and out[1, 0] <= 50 - 20 + 1e-9
    assert out[5, 1] - 90 >= 30 - 1e-9


def test_skeletons_are_readable_data():
    assert len(hw.SKELETONS) == 10
    for d, forms in enumerate(hw.SKELETONS):
        assert 2 <= len(forms) <= 4, d
        for strokes in forms:
            for stroke in strokes:
                points = np.array(stroke)
                assert points.ndim == 2 and points.shape[1] == 2 and len(points) >= 2
                assert points.min() >= 0 and points.max() <= 1


def test_write_digit_is_ink_on_black_of_the_height_asked():
    rng = np.random.default_rng(1)
    for height in (16, 40, 100):
        ink = hw.write_digit(8, _writer(), rng, height)
        assert ink.dtype == np.float32 and ink.min() == 0 and ink.max() == 1
        rows = np.flatnonzero(ink.max(axis=1) > 0.5)
        assert rows[-1] - rows[0] + 1 == pytest.approx(height * 1.1, rel=0.1)  # + pen
        assert ink[0].max() == ink[-1].max() == 0  # a margin all round


def test_same_writer_is_more_alike_than_two_writers():
    rng = np.random.default_rng(2)
    writers = [hw.random_writer(rng) for _ in range(5)]
    threes = [
        [_normalise(hw.write_digit(3, w, rng, 48)) for _ in range(2)] for w in writers
    ]
    within = np.mean([np.linalg.norm(x - y) for x, y in threes])
    between = np.mean(
        [
            np.linalg.norm(threes[i][0] - threes[j][1])
            for i in range(5)
            for j in range(5)
            if i != j
        ]
    )
    assert within < 0.8 * between


# --------------------------------------------------------------------------- paper


def test_scans_are_light_paper_with_dark_ink(small_set):
    for image in small_set.scans:
        assert image.ndim == 2 and image.dtype == np.uint8
        assert 40 <= image.shape[0] <= 240
        paper = np.median(_border(image))
        assert paper >= 0.86 * 255
        assert image.min() < paper - 80  # the ink
        assert np.mean(image < paper - 40) < 0.3  # mostly paper


def test_a_scan_frames_the_digit_with_a_margin():
    ink = np.zeros((60, 40), np.float32)
    ink[5:55, 10:30] = 1  # a 50 x 20 block of ink
    for seed in range(20):
        image = hw.scan(ink, np.random.default_rng(seed))
        rows = np.flatnonzero((image < 128).any(axis=1))
        height = rows[-1] - rows[0] + 1
        assert 0.35 <= height / image.shape[0] <= 0.86
        assert rows[0] >= 2 and rows[-1] <= image.shape[0] - 3


def test_photos_are_colour_on_warm_paper(small_set):
    for image in small_set.photos:
        assert image.ndim == 3 and image.shape[2] == 3 and image.dtype == np.uint8
        red, green, blue = np.median(_border(image).reshape(-1, 3), axis=0)
        assert red >= green >= blue and red > blue  # cream, not grey


def test_photos_differ_from_scans_but_hold_the_same_digit(small_set):
    def spread(image: np.ndarray) -> float:
        grey = image.mean(axis=2) if image.ndim == 3 else image.astype(float)
        return float(_border(grey).std())

    # uneven light and camera noise: the photo's paper varies far more
    assert min(map(spread, small_set.photos)) > 2 * max(map(spread, small_set.scans))
    alike = [
        np.corrcoef(prepare_digit(scan), prepare_digit(photo))[0, 1]
        for scan, photo in zip(small_set.scans[::2], small_set.photos[::2], strict=True)
    ]
    assert np.median(alike) > 0.8


def test_a_photo_enlarges_the_digit_one_and_a_half_to_two_and_a_half_times():
    ink = np.zeros((60, 40), np.float32)
    ink[5:55, 10:30] = 1  # a 50 x 20 block of ink
    for seed in range(10):
        image = hw.photograph(ink, np.random.default_rng(seed))
        red = Image.fromarray(image[..., 0]).filter(ImageFilter.MedianFilter(5))
        red = np.asarray(red, dtype=float)
        ink_rows = (red < 0.45 * red.max(axis=1, keepdims=True)).any(axis=1)
        rows = np.flatnonzero(ink_rows)  # the pen is dark in red: < 0.3 x the paper
        assert 1.4 <= (rows[-1] - rows[0] + 1) / 50 <= 2.6


# --------------------------------------------------------------------------- sets


def test_writer_set_is_labelled_and_balanced(small_set):
    n = 2 * 10 * 2
    assert len(small_set.scans) == len(small_set.photos) == n
    assert small_set.labels.shape == small_set.writers.shape == (n,)
    assert small_set.labels.dtype == small_set.writers.dtype == np.int64
    for i in range(2):
        labels = small_set.labels[small_set.writers == i]
        np.testing.assert_array_equal(np.bincount(labels, minlength=10), [2] * 10)


def test_writer_set_stores_each_writers_neatness(small_set):
    neatness = small_set.neatness
    assert neatness.shape == (40,) and neatness.dtype == np.float64
    for i, child in enumerate(np.random.SeedSequence(8).spawn(2)):
        mine = neatness[small_set.writers == i]
        writer = hw.random_writer(np.random.default_rng(child))
        np.testing.assert_array_equal(mine, writer.neatness)  # writer i's, every time
        assert 0 <= writer.neatness <= 1


def test_writer_set_is_deterministic_and_writer_i_ignores_n_writers():
    one, three = hw.writer_set(1, seed=5, per_digit=1), hw.writer_set(3, 5, 1)
    other = hw.writer_set(1, seed=6, per_digit=1)
    for a, c, d in zip(one.scans, three.scans, other.scans, strict=False):
        np.testing.assert_array_equal(a, c)  # the same images from two calls
        assert a.shape != d.shape or not np.array_equal(a, d)  # another seed differs
    for a, c in zip(one.photos, three.photos[:10], strict=True):
        np.testing.assert_array_equal(a, c)
    np.testing.assert_array_equal(three.writers, np.repeat([0, 1, 2], 10))
    np.testing.assert_array_equal(one.neatness, three.neatness[:10])
    again = hw.writer_set(3, 5, 1)
    for a, c in zip(three.photos, again.photos, strict=True):
        np.testing.assert_array_equal(a, c)


def _normalise(ink: np.ndarray) -> np.ndarray:
    """Ink cropped to its box and squeezed to 20 x 20, as a vector ``(400,)``."""
    mask = ink > 0.1
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    crop = Image.fromarray(ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1])
    return np.asarray(crop.resize((20, 20), Image.Resampling.BILINEAR)).ravel()


def _class_means(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Normalised digits ``(200, 400)`` of 10 writers, their labels, the 10 class means."""
    X, y = [], []
    for child in np.random.SeedSequence(seed).spawn(10):
        rng = np.random.default_rng(child)
        writer = hw.random_writer(rng)
        for digit in np.repeat(np.arange(10), 2):
            X.append(_normalise(hw.write_digit(int(digit), writer, rng, 32)))
            y.append(digit)
    X, y = np.array(X), np.array(y)
    return X, y, np.array([X[y == d].mean(axis=0) for d in range(10)])


def test_the_ten_digits_are_told_apart_across_writers():
    _, _, means_a = _class_means(21)
    X, y, means_b = _class_means(22)  # other writers
    distance = np.linalg.norm(means_a[:, None] - means_b[None], axis=2)
    np.testing.assert_array_equal(distance.argmin(axis=1), np.arange(10))
    nearest_mean = np.linalg.norm(X[:, None] - means_a[None], axis=2).argmin(axis=1)
    assert np.mean(nearest_mean == y) > 0.6  # chance is 0.1


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: hw.write_digit(10, _writer(), np.random.default_rng()),
            "0..9, got 10",
        ),
        (lambda: hw.write_digit(-1, _writer(), np.random.default_rng()), "got -1"),
        (lambda: hw.write_digit(2.0, _writer(), np.random.default_rng()), "got 2.0"),
        (lambda: hw.write_digit(3, _writer(), np.random.default_rng(), 4), "got 4"),
        (
            lambda: hw.writer_set(0, seed=1),
            "n_writers: expected an integer >= 1, got 0",
        ),
        (lambda: hw.writer_set(2, seed=1, per_digit=0), "per_digit: .* got 0"),
        (lambda: hw.writer_set(2, seed=-3), "seed: expected an integer >= 0, got -3"),
        (lambda: hw.render([], 0.0, (5, 5)), "pen: expected .* got 0.0"),
        (lambda: hw.render([], 1.0, (0, 5)), r"size: expected .* got \(0, 5\)"),
        (
            lambda: hw.render([np.zeros((3, 2))], 1.0, (5, 5), [np.ones(2)]),
            r"pressure\[0\]: expected .*\(3,\), got \(2,\)",
        ),
        (lambda: hw.trace(np.zeros((3, 3)), 10), r"points: expected \(m, 2\)"),
        (lambda: hw.trace(np.zeros((3, 2)), 1), "n: expected at least 2 .* got 1"),
        (lambda: _writer(pen=0.0), "pen: expected > 0, got 0.0"),
        (lambda: _writer(waist=0.9), "waist: expected .* got 0.9"),
        (lambda: _writer(neatness=1.5), "neatness: expected a value in 0..1, got 1.5"),
        (lambda: _writer(neatness=-0.1), "neatness: expected .* got -0.1"),
        (
            lambda: hw.Writer(0, 1, 0.1, 0.01, 0, allographs=(0,) * 9),
            r"expected one index per digit \(10\), got 9",
        ),
        (
            lambda: hw.Writer(0, 1, 0.1, 0.01, 0, allographs=(0,) * 9 + (7,)),
            r"allographs\[9\]: expected an index in 0..2, got 7",
        ),
        (
            lambda: hw.scan(np.zeros((9, 9), np.float32), np.random.default_rng()),
            "ink: expected a digit",
        ),
        (
            lambda: hw.photograph(np.ones((4, 4, 3)), np.random.default_rng()),
            r"ink: expected a 2-D float array .* got shape \(4, 4, 3\)",
        ),
        (
            lambda: hw.scan(np.full((4, 4), 2.0), np.random.default_rng()),
            r"ink: expected values in \[0, 1\]",
        ),
    ],
)
def test_bad_arguments_say_what_was_expected(call, message):
    with pytest.raises(ValueError, match=message):
        call()
