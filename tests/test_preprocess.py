"""Preparing any image as MNIST was prepared: grey, ink, crop, 20-pixel box, centre of mass."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from nnmath.model_io import load_default_model
from nnmath.preprocess import (
    ImageError,
    centre_in_frame,
    centre_of_mass,
    crop_to_ink,
    fit_box,
    ink_is_dark,
    keep_digit,
    otsu_threshold,
    prepare_digit,
    prepare_steps,
    read_image,
    remove_background,
    shrink,
    to_grey,
    to_ink,
    window_max,
    window_min,
)
from PIL import Image


def _ring(shape=(200, 120), centre=(70, 45), radii=(30, 45), thickness=8) -> np.ndarray:
    """A synthetic '0': an elliptical ring of ink 1.0 on 0, float32 ``shape``."""
    r, c = np.indices(shape)
    d = np.hypot((r - centre[0]) / radii[0], (c - centre[1]) / radii[1]) * min(radii)
    return ((d > min(radii) - thickness) & (d < min(radii))).astype(np.float32)


def _paper(ink: np.ndarray) -> np.ndarray:
    """Ink as dark strokes on white paper, uint8 RGB ``(h, w, 3)``."""
    grey = np.round(255 * (1 - ink)).astype(np.uint8)
    return np.stack([grey] * 3, axis=-1)


# --------------------------------------------------------------------------- to_grey


def test_to_grey_scales_integers_to_unit_range() -> None:
    image = np.array([[0, 51, 255]], dtype=np.uint8)
    out = to_grey(image)
    assert out.dtype == np.float32
    assert np.allclose(out, [[0, 0.2, 1]])
    assert np.allclose(to_grey(np.array([[0, 65535]], dtype=np.uint16)), [[0, 1]])
    assert np.array_equal(to_grey(np.array([[True, False]])), [[1, 0]])


def test_to_grey_weights_colours_like_pillow() -> None:
    rgb = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 200, 90]]], np.uint8)
    expected = np.asarray(Image.fromarray(rgb).convert("L"), dtype=np.float32) / 255
    assert np.allclose(to_grey(rgb), expected, atol=1 / 255)
    assert np.allclose(to_grey(rgb[..., :1]), rgb[..., 0] / 255)  # (h, w, 1)


def test_to_grey_composites_alpha_on_white() -> None:
    rgba = np.zeros((1, 3, 4), dtype=np.uint8)  # black ink ...
    rgba[0, :, 3] = [0, 255, 51]  # ... transparent, opaque, 20% opaque
    assert np.allclose(to_grey(rgba), [[1.0, 0.0, 0.8]])
    la = np.array([[[0, 0], [0, 255]]], dtype=np.uint8)
    assert np.allclose(to_grey(la), [[1.0, 0.0]])


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((4, 4, 5), np.uint8),
        np.zeros((0, 3), np.uint8),
        np.zeros(7, np.uint8),
        np.full((3, 3), 1.5),
        np.full((3, 3), np.nan),
        np.array([["a"]]),
    ],
    ids=["5 channels", "empty", "1-D", "float above 1", "NaN", "strings"],
)
def test_to_grey_refuses_what_is_not_an_image(image: np.ndarray) -> None:
    with pytest.raises(ImageError, match="expected"):
        to_grey(image)


# --------------------------------------------------------------------------- polarity


def test_polarity_is_read_from_the_border() -> None:
    ink = _ring()
    paper = 1 - ink  # dark ink on white
    assert ink_is_dark(paper)
    assert not ink_is_dark(ink)
    assert np.array_equal(to_ink(paper), ink)
    assert np.array_equal(to_ink(ink), ink)


def test_polarity_on_grey_paper() -> None:
    ink = _ring()
    photo = 0.45 - 0.35 * ink  # dark-grey strokes on mid-grey (dim) paper: below 0.5
    assert ink_is_dark(photo)
    stretched = remove_background(to_ink(photo))
    assert np.allclose(stretched, ink, atol=1e-6)


def test_remove_background_maps_paper_to_0_and_ink_to_1() -> None:
    ink = 0.3 + 0.5 * _ring()
    out = remove_background(ink)
    assert out.min() == 0 and out.max() == 1
    assert np.allclose(out, _ring(), atol=1e-6)
    assert not remove_background(np.full((5, 5), 0.7)).any()


@pytest.mark.equation("eq-background")
def test_remove_background_flattens_uneven_light() -> None:
    """Dark ink on paper lit from one side, light L from 0.55 to 0.95, is the ink alone.

    The photo is grey = L (1 - 0.8 ink); as ink, 1 - grey. Within half a window of the
    image's left and right edges an opening cannot follow a ramp, so only the middle is
    compared (and the ring lies there).
    """
    ring = _ring(shape=(200, 240), centre=(100, 120))
    light = np.linspace(0.55, 0.95, ring.shape[1], dtype=np.float32)[None, :]
    out = remove_background(1 - light * (1 - 0.8 * ring))
    middle = slice(50, 190)
    assert np.abs(out - ring)[:, middle].max() < 1e-5
    # subtracting one global paper level (the old way) leaves the dim side grey
    old = np.clip(light * 0.8 * ring + (0.95 - light), 0, None)
    assert np.abs(old / old.max() - ring)[:, middle].max() > 0.2


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 30),
    st.integers(1, 30),
    st.integers(0, 12),
    st.integers(0, 1),
    st.integers(0, 2**32 - 1),
)
def test_window_max_and_min_are_scipys_filters(h, w, half, axis, seed) -> None:
    """Van Herk / Gil-Werman gives exactly the brute-force window maximum and minimum."""
    from scipy import ndimage

    a = np.random.default_rng(seed).random((h, w)).astype(np.float32)
    k = 2 * half + 1
    size = (k, 1) if axis == 0 else (1, k)
    assert np.array_equal(
        window_max(a, k, axis), ndimage.maximum_filter(a, size=size, mode="nearest")
    )
    assert np.array_equal(
        window_min(a, k, axis), ndimage.minimum_filter(a, size=size, mode="nearest")
    )
    zeros = ndimage.maximum_filter(a, size=size, mode="constant", cval=0)
    assert np.array_equal(window_max(a, k, axis, edge="zeros"), zeros)


def test_window_max_refuses_an_even_window() -> None:
    with pytest.raises(ValueError, match="odd window"):
        window_max(np.zeros((3, 3)), 4, axis=0)


@pytest.mark.equation("eq-background")
def test_remove_background_estimates_the_paper_by_an_opening() -> None:
    from scipy import ndimage

    rng = np.random.default_rng(0)
    ink = rng.random((40, 30)).astype(np.float32)
    paper = ndimage.grey_opening(ink, size=(9, 9), mode="nearest")  # 0.25 x 30, odd
    expected = (ink - paper) / (1 - paper)
    expected /= expected.max()
    assert np.allclose(remove_background(ink), expected, atol=1e-6)


def _between_class_variance(values: np.ndarray, t: float) -> float:
    """omega_0 omega_1 (mu_0 - mu_1)^2 of the split of ``values`` at ``t``, directly."""
    low, high = values[values <= t], values[values > t]
    if low.size == 0 or high.size == 0:
        return -1.0
    w0, w1 = low.size / values.size, high.size / values.size
    return w0 * w1 * (low.mean() - high.mean()) ** 2


@pytest.mark.equation("eq-otsu")
@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_otsu_threshold_maximises_the_between_class_variance(seed: int) -> None:
    """On values at bin centres, no threshold splits them with more between-class variance."""
    rng = np.random.default_rng(seed)
    values = (rng.integers(0, 32, size=(12, 10)) + 0.5) / 32
    t = otsu_threshold(values.astype(np.float32), bins=32)
    best = _between_class_variance(values, t)
    others = [_between_class_variance(values, (j + 1) / 32) for j in range(31)]
    assert best >= max(others) - 1e-12


@pytest.mark.equation("eq-otsu")
def test_otsu_threshold_splits_two_levels() -> None:
    ink = np.full((10, 10), 0.1, np.float32)
    ink[:3] = 0.8
    assert 0.1 < otsu_threshold(ink) <= 0.8


def test_keep_digit_drops_specks_and_keeps_a_digit_in_two_strokes() -> None:
    ink = np.zeros((60, 60), np.float32)
    ink[10:50, 30:34] = 1  # the stem of a 5 or a 4
    ink[10:14, 18:29] = 1  # a second stroke, not touching the first
    ink[55, 3] = ink[2, 57] = 1  # specks
    ink[3:5, 3:5] = 1  # a speck of 4 pixels, far away
    kept = keep_digit(ink)
    assert kept[10:50, 30:34].all() and kept[10:14, 18:29].all()
    assert kept[55, 3] == kept[2, 57] == 0 and not kept[3:5, 3:5].any()


def test_keep_digit_refuses_noise_without_a_digit() -> None:
    rng = np.random.default_rng(1)
    specks = (rng.random((200, 200)) > 0.999).astype(np.float32)
    with pytest.raises(ImageError, match="no digit-sized piece"):
        keep_digit(specks)


def test_keep_digit_refuses_an_image_of_ink() -> None:
    ink = np.ones((50, 50), np.float32)
    ink[20:30, 20:30] = 0
    with pytest.raises(ImageError, match="ink over 96% of the image"):
        keep_digit(ink)


def test_shrink_limits_the_longer_side() -> None:
    grey = np.ones((3000, 1200), np.float32)
    assert shrink(grey, 1000).shape == (1000, 400)
    small = np.ones((30, 20), np.float32)
    assert shrink(small, 1000) is not None and shrink(small, 1000).shape == (30, 20)


def test_a_photo_in_uneven_light_with_noise_and_a_speck_is_the_clean_digit() -> None:
    rng = np.random.default_rng(3)
    ink = _ring()
    r, c = np.indices(ink.shape)
    light = 0.95 - 0.35 * c / ink.shape[1] - 0.1 * ((r - 100) / 100) ** 2
    photo = light * (1 - 0.75 * ink) + rng.normal(0, 0.02, ink.shape)
    photo[180:184, 5:9] = 0.1  # a speck of dirt in a corner
    photo = np.clip(photo, 0, 1).astype(np.float32)
    clean, found = prepare_steps(_paper(ink)), prepare_steps(photo)
    # the same box of ink (the speck and the light gone) ...
    assert found["box"].shape == clean["box"].shape
    assert np.abs(found["box"] - clean["box"]).mean() < 0.02
    # ... placed by a centre of mass that may round to the next whole pixel
    (r0, c0), (r1, c1) = centre_of_mass(clean["frame"]), centre_of_mass(found["frame"])
    assert abs(r0 - r1) <= 1 and abs(c0 - c1) <= 1


# --------------------------------------------------------------------------- geometry


def test_crop_to_ink_finds_the_bounding_box() -> None:
    ink = np.zeros((10, 12), np.float32)
    ink[2, 3] = ink[6, 9] = 1
    ink[8, 0] = 0.05  # below the threshold
    crop = crop_to_ink(ink)
    assert crop.shape == (5, 7)
    assert crop[0, 0] == 1 and crop[-1, -1] == 1


def test_crop_to_ink_refuses_an_empty_image() -> None:
    with pytest.raises(ImageError, match="no pixel above"):
        crop_to_ink(np.zeros((5, 5)))


@pytest.mark.parametrize(
    ("shape", "expected"),
    [
        ((40, 10), (20, 5)),
        ((10, 40), (5, 20)),
        ((20, 20), (20, 20)),
        ((2, 1), (20, 10)),  # tiny: grown
        ((1, 1), (20, 20)),
        ((3000, 400), (20, 3)),  # huge: shrunk
        ((500, 1), (20, 1)),  # never below one pixel
    ],
)
def test_fit_box_keeps_the_aspect_ratio(shape, expected) -> None:
    out = fit_box(np.ones(shape, np.float32))
    assert out.shape == expected
    assert out.dtype == np.float32
    assert 0 <= out.min() and out.max() <= 1


def test_fit_box_averages_when_shrinking() -> None:
    stripes = np.zeros((200, 200), np.float32)
    stripes[:, ::2] = 1  # one-pixel stripes: too fine for 20 pixels
    out = fit_box(stripes)
    assert np.allclose(out[2:-2, 2:-2], 0.5, atol=0.05)  # grey, not aliased stripes


def test_centre_of_mass_of_known_shapes() -> None:
    ink = np.zeros((9, 7), np.float32)
    ink[3, 5] = 2
    assert centre_of_mass(ink) == (3.0, 5.0)
    ink[7, 1] = 2
    assert centre_of_mass(ink) == (5.0, 3.0)
    with pytest.raises(ImageError):
        centre_of_mass(np.zeros((3, 3)))


@settings(max_examples=40, deadline=None)
@given(
    arrays(
        np.float32,
        st.tuples(st.integers(1, 12), st.integers(1, 12)),
        elements=st.floats(0, 1, width=32),
    )
)
def test_centre_of_mass_is_the_weighted_mean(ink: np.ndarray) -> None:
    if ink.sum() <= 1e-3:
        return
    rows, cols = np.indices(ink.shape)
    w = ink.astype(np.float64)
    expected = ((rows * w).sum() / w.sum(), (cols * w).sum() / w.sum())
    assert np.allclose(centre_of_mass(ink), expected)


@pytest.mark.parametrize("where", [(0, 0), (5, 17), (19, 19)])
def test_centre_in_frame_moves_the_centre_of_mass_to_14_14(where) -> None:
    ink = np.zeros((20, 20), np.float32)
    ink[where] = 1
    frame = centre_in_frame(ink)
    assert frame.shape == (28, 28)
    assert frame[14, 14] == 1
    assert frame.sum() == 1


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 20), st.integers(1, 20), st.integers(0, 2**32 - 1))
def test_centre_in_frame_is_within_half_a_pixel(h: int, w: int, seed: int) -> None:
    ink = np.random.default_rng(seed).random((h, w), dtype=np.float32) ** 3
    frame = centre_in_frame(ink)
    row, col = centre_of_mass(frame)
    assert abs(row - 14) <= 0.5 + 1e-6 and abs(col - 14) <= 0.5 + 1e-6
    assert np.isclose(frame.sum(), ink.sum(), rtol=1e-5)  # all of it fits: nothing lost


def test_centre_in_frame_clips_what_does_not_fit() -> None:
    ink = np.zeros((60, 40), np.float32)
    ink[:, :2] = 1  # mass at the far left: most of the ink falls outside
    frame = centre_in_frame(ink)
    assert frame.shape == (28, 28)
    assert 0 < frame.sum() < ink.sum()


# --------------------------------------------------------------------------- the chain


def test_prepare_digit_matches_mnist_geometry() -> None:
    digit = prepare_digit(_paper(_ring()))
    assert digit.shape == (784,)
    assert digit.dtype == np.float32
    assert 0 <= digit.min() and digit.max() <= 1
    frame = digit.reshape(28, 28)
    rows, cols = np.flatnonzero(frame.any(axis=1)), np.flatnonzero(frame.any(axis=0))
    assert max(rows.size, cols.size) in (20, 21, 22)  # 20-pixel box (+ Lanczos fringe)
    assert np.allclose(centre_of_mass(frame), (14, 14), atol=0.5)


def test_every_colour_layout_and_polarity_gives_the_same_digit() -> None:
    ink = _ring()
    reference = prepare_digit(ink)  # white on black, float
    paper = _paper(ink)
    rgba = np.zeros((*ink.shape, 4), np.uint8)  # black strokes on a transparent sheet
    rgba[..., 3] = np.round(255 * ink).astype(np.uint8)
    variants = {
        "RGB paper": paper,
        "grey paper": paper[..., 0],
        "RGBA transparent": rgba,
        "uint8 white on black": np.round(255 * ink).astype(np.uint8),
    }
    for name, image in variants.items():
        assert np.allclose(prepare_digit(image), reference, atol=2e-3), name


def test_position_and_size_on_the_canvas_do_not_matter() -> None:
    small = _ring(shape=(60, 60), centre=(15, 20), radii=(9, 13), thickness=3)
    large = _ring(shape=(600, 900), centre=(400, 700), radii=(90, 130), thickness=30)
    a, b = prepare_digit(small), prepare_digit(large)
    assert np.abs(a - b).mean() < 0.03


def test_prepare_steps_names_each_step() -> None:
    steps = prepare_steps(_paper(_ring()))
    names = ["grey", "ink", "digit_ink", "crop", "box", "frame", "digit"]
    assert list(steps) == names
    assert steps["grey"].shape == steps["ink"].shape == (200, 120)
    assert max(steps["box"].shape) == 20
    assert steps["frame"].shape == (28, 28)
    assert all(a.dtype == np.float32 for a in steps.values())
    assert np.array_equal(steps["digit"], prepare_digit(_paper(_ring())))


def test_prepare_digit_refuses_an_empty_image() -> None:
    with pytest.raises(ImageError, match="no pixel above"):
        prepare_digit(np.full((30, 30, 3), 255, np.uint8))


def test_mnist_digits_survive_the_round_trip(mnist) -> None:
    """An MNIST digit, prepared again (even as dark ink on white RGB), is itself again."""
    images = mnist.test_images[:300]
    original = images.reshape(300, -1).T / 255
    again = np.stack([prepare_digit(x) for x in images], axis=1)
    assert np.abs(again - original).mean() < 0.002
    paper = np.stack([prepare_digit(_paper(x / 255)) for x in images], axis=1)
    assert np.abs(paper - again).max() < 0.01


def test_default_model_reads_digits_drawn_on_paper(mnist) -> None:
    """MNIST test digits, enlarged 4 x, moved off-centre and inverted, are still read."""
    model, _ = load_default_model()
    images, labels = mnist.test_images[:500], mnist.test_labels[:500]
    columns = []
    for x in images:
        big = np.asarray(
            Image.fromarray(x).resize((112, 112), Image.Resampling.BILINEAR)
        )
        canvas = np.zeros((160, 200), np.uint8)
        canvas[10:122, 70:182] = big
        columns.append(prepare_digit(_paper(canvas / 255)))
    accuracy = np.mean(model.predict(np.stack(columns, axis=1)) == labels)
    assert accuracy >= 0.95, accuracy


# --------------------------------------------------------------------------- files


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA", "LA", "P", "1", "I;16"])
def test_read_image_decodes_each_mode(tmp_path: Path, mode: str) -> None:
    ink = _ring(shape=(40, 30), centre=(20, 15), radii=(12, 9), thickness=3)
    path = tmp_path / "digit.png"
    Image.fromarray(_paper(ink)).convert(mode).save(path)
    image = read_image(path)
    assert image.shape[:2] == (40, 30)
    digit = prepare_digit(image)
    assert np.abs(digit - prepare_digit(ink)).mean() < 0.01


def test_read_image_reports_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="no such file"):
        read_image(tmp_path / "nothing.png")
    with pytest.raises(ImageError, match="a folder"):
        read_image(tmp_path)


def test_read_image_reports_a_file_that_is_not_an_image(tmp_path: Path) -> None:
    path = tmp_path / "notes.png"
    path.write_text("not a picture")
    with pytest.raises(ImageError, match="cannot decode"):
        read_image(path)


def test_read_image_reports_a_truncated_file(tmp_path: Path) -> None:
    path = tmp_path / "digit.png"
    Image.fromarray(_paper(_ring())).save(path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ImageError, match="cannot decode"):
        read_image(path)


def test_read_image_refuses_a_huge_image_before_decoding_it(tmp_path: Path) -> None:
    path = tmp_path / "huge.png"
    Image.new("L", (8000, 7000), 255).save(path)
    with pytest.raises(ImageError, match=r"at most 50 megapixels, found 8000 x 7000"):
        read_image(path)


def test_read_image_reports_an_empty_image(tmp_path: Path) -> None:
    path = tmp_path / "blank.png"
    Image.new("RGB", (30, 20), (240, 240, 240)).save(path)
    with pytest.raises(ImageError, match="all one colour, 30 x 20"):
        read_image(path)


def test_default_model_reads_other_writers_scanned_and_photographed() -> None:
    """Digits of pen-model writers outside MNIST (the test writers, seeds 100 and up).

    The bars of the handwriting issue: at least 92% of the scans, 88% of the photos.
    """
    from nnmath.handwriting import writer_set

    model, _ = load_default_model()
    writers = writer_set(25, seed=100)
    for kind, bar in (("scans", 0.92), ("photos", 0.88)):
        columns = []
        for image in getattr(writers, kind):
            try:
                columns.append(prepare_digit(image))
            except ImageError:  # refused: counted as wrong
                columns.append(np.zeros(784, np.float32))
        accuracy = np.mean(model.predict(np.stack(columns, axis=1)) == writers.labels)
        assert accuracy >= bar, f"{kind}: {accuracy:.3f}"


def test_the_digits_drawn_on_the_canvas_ship_and_are_read() -> None:
    """Ten digits drawn on the book's canvas (chapter 14), shipped with the package."""
    from nnmath.handwriting import drawn_digits

    paths = drawn_digits()
    assert [p.name for p in paths] == [f"digit-{d}.png" for d in range(10)]
    model, _ = load_default_model()
    X = np.stack([prepare_digit(read_image(p)) for p in paths], axis=1)
    right = model.predict(X) == np.arange(10)
    assert right.sum() >= 9, right  # seen: all ten
