"""The digit demo (book/_static/digit-demo.js) in headless Chromium, on the built site.

Chapter 14 and the landing page have a canvas to draw a digit on. The page prepares the
drawing as ``nnmath.preprocess.prepare_digit`` does and reads it with the default model, in
JavaScript: here its forward pass is compared with ``MLP.predict_proba`` on MNIST test
images, its preparation with ``prepare_digit`` on the canvas's own pixels, and digits drawn
with the mouse (and with a finger, through Chromium's touch events) must be read right, at
a desktop's width, at a phone's and in dark mode, with no console error and no request to
another host. Screenshots of the demo go to _build/screenshots/.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from urllib.parse import urljoin

import numpy as np
import pytest
from browsing import open_page
from nnmath import model_io, preprocess
from nnmath.data import MNIST, scale_pixels, to_columns
from nnmath.mlp import MLP

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "_build" / "screenshots"
PAGES = ["book/14_own_digit.html", "book/intro.html"]
EMPTY = "draw a digit"
pytestmark = pytest.mark.book

#: Strokes in the canvas's own pixels (280 x 280), each a list of points, for three digits.
STROKES: dict[str, list[list[tuple[float, float]]]] = {
    "1": [[(140, 30), (140, 250)]],
    "0": [
        [
            (140 + 70 * math.sin(t), 140 - 100 * math.cos(t))
            for t in np.linspace(0, 2 * math.pi, 41)
        ]
    ],
    "7": [[(60, 45), (220, 45), (120, 250)]],
    "4": [[(150, 30), (70, 170), (210, 170)], [(170, 90), (170, 250)]],
}
#: The largest difference allowed between the page's and nnmath's numbers.
PREDICT_TOLERANCE = 1e-5  # probabilities: float64 in both, weights float32 in both
PREPARE_TOLERANCE = 1e-6  # pixels in [0, 1], float32 in both (one rounding is 6e-8)


def _ready(page: object) -> None:
    """Wait until the page has loaded the model (nnmath.ready() resolves)."""
    page.evaluate("() => window.nnmath.ready().then(() => true)")  # type: ignore[attr-defined]


def _canvas_box(page: object) -> dict[str, float]:
    box = page.locator("#digit-canvas").bounding_box()  # type: ignore[attr-defined]
    assert box is not None and box["width"] > 0
    return box


def _draw(page: object, strokes: list[list[tuple[float, float]]]) -> None:
    """Draw ``strokes`` with Playwright's mouse, scaled to the canvas's size on screen."""
    page.locator("#digit-canvas").scroll_into_view_if_needed()  # type: ignore[attr-defined]
    box = _canvas_box(page)
    scale = box["width"] / 280
    mouse = page.mouse  # type: ignore[attr-defined]
    for stroke in strokes:
        x, y = stroke[0]
        mouse.move(box["x"] + x * scale, box["y"] + y * scale)
        mouse.down()
        for x, y in stroke[1:]:
            mouse.move(box["x"] + x * scale, box["y"] + y * scale, steps=8)
        mouse.up()
    page.wait_for_timeout(100)  # type: ignore[attr-defined]  # one animation frame, at least


def _touch(page: object, strokes: list[list[tuple[float, float]]]) -> None:
    """Draw ``strokes`` with a finger: Chromium's touch events, which fire pointer events."""
    page.locator("#digit-canvas").scroll_into_view_if_needed()  # type: ignore[attr-defined]
    box = _canvas_box(page)
    scale = box["width"] / 280
    cdp = page.context.new_cdp_session(page)  # type: ignore[attr-defined]
    for stroke in strokes:
        points = [(box["x"] + x * scale, box["y"] + y * scale) for x, y in stroke]
        cdp.send("Input.dispatchTouchEvent", {
            "type": "touchStart", "touchPoints": [{"x": points[0][0], "y": points[0][1]}]})
        for (x0, y0), (x1, y1) in itertools.pairwise(points):
            for t in np.linspace(0, 1, 9)[1:]:
                x, y = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
                cdp.send("Input.dispatchTouchEvent", {
                    "type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()
    page.wait_for_timeout(100)  # type: ignore[attr-defined]


def _canvas(page: object) -> tuple[np.ndarray, np.ndarray | None]:
    """The canvas's RGBA pixels (h, w, 4) uint8 and the page's preparation of them."""
    found = page.evaluate(  # type: ignore[attr-defined]
        """() => {
            const c = document.getElementById('digit-canvas');
            const image = c.getContext('2d').getImageData(0, 0, c.width, c.height);
            const prepared = window.nnmath.prepare(image);
            return {width: image.width, height: image.height, data: Array.from(image.data),
                    prepared: prepared && Array.from(prepared)};
        }"""
    )
    rgba = np.array(found["data"], dtype=np.uint8).reshape(found["height"], found["width"], 4)
    prepared = found["prepared"]
    return rgba, None if prepared is None else np.array(prepared, dtype=np.float32)


def _prediction(page: object) -> str:
    return page.text_content("#digit-prediction").strip()  # type: ignore[attr-defined]


def _shoot(page: object, name: str) -> Path:
    """A screenshot of the demo alone, into _build/screenshots/demo_NAME.png."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"demo_{name}.png"
    page.locator(".digit-demo").screenshot(path=str(path))  # type: ignore[attr-defined]
    return path


@pytest.fixture(scope="module")
def model() -> MLP:
    return model_io.load_model(model_io.shipped_model_path("mlp"))[0]


@pytest.fixture(params=PAGES, ids=["chapter14", "intro"])
def demo(request: pytest.FixtureRequest, site: Path, server: str, browser: object):
    """A page with the demo, opened and with its model loaded; its problems checked after."""
    page, problems = open_page(browser, urljoin(server, request.param))
    _ready(page)
    yield page, request.param
    page.close()
    assert problems == []


def test_predict_is_predict_proba(
    site: Path, server: str, browser: object, model: MLP, mnist: MNIST
) -> None:
    """The page's forward pass gives MLP.predict_proba's probabilities (float64) to 1e-5."""
    X = scale_pixels(to_columns(mnist.test_images[:200])).astype(np.float64)  # (784, 200)
    exact = MLP(model.sizes, dtype=np.float64)
    exact.set_params([p.astype(np.float64) for p in model.params])
    expected = exact.predict_proba(X)  # (10, 200)
    page, problems = open_page(browser, urljoin(server, PAGES[0]))
    _ready(page)
    found = np.array(
        page.evaluate("xs => xs.map(x => window.nnmath.predict(x))", X.T.tolist())
    ).T
    page.close()
    assert problems == []
    assert found.shape == (10, 200)
    assert np.abs(found - expected).max() <= PREDICT_TOLERANCE
    assert np.array_equal(found.argmax(axis=0), expected.argmax(axis=0))


@pytest.mark.parametrize("digit", sorted(STROKES))
def test_a_drawn_digit_is_prepared_as_nnmath_does_and_read_right(
    demo: tuple[object, str], model: MLP, digit: str
) -> None:
    page, _ = demo
    assert _prediction(page) == EMPTY
    _draw(page, STROKES[digit])
    rgba, prepared = _canvas(page)
    expected = preprocess.prepare_digit(rgba)
    assert prepared is not None and prepared.shape == (784,)
    assert np.abs(prepared - expected).max() <= PREPARE_TOLERANCE
    assert int(model.predict_proba(expected[:, None]).argmax()) == int(digit)
    assert _prediction(page) == digit
    best = page.locator(".digit-demo-best .digit-demo-label")  # type: ignore[attr-defined]
    assert best.count() == 1 and best.text_content() == digit


def test_clear_empties_the_canvas(demo: tuple[object, str]) -> None:
    page, _ = demo
    _draw(page, STROKES["7"])
    assert _prediction(page) == "7"
    page.get_by_role("button", name="Clear").click()  # type: ignore[attr-defined]
    page.wait_for_timeout(100)  # type: ignore[attr-defined]
    rgba, prepared = _canvas(page)
    assert prepared is None  # no ink left: the page does not guess
    assert np.all(rgba[..., :3] == 0)
    assert _prediction(page) == EMPTY
    _draw(page, STROKES["1"])  # and it draws again after a Clear
    assert _prediction(page) == "1"


def _contrast(page: object, selector: str) -> float:
    """WCAG contrast ratio between the text colour of ``selector`` and the page's background."""
    colours = page.evaluate(  # type: ignore[attr-defined]
        """(selector) => {
            const rgb = (s) => s.match(/[\\d.]+/g).slice(0, 3).map(Number);
            let e = document.querySelector(selector), back = null;
            const text = rgb(getComputedStyle(e).color);
            for (; e && !back; e = e.parentElement) {
                const c = getComputedStyle(e).backgroundColor;
                if (c !== 'rgba(0, 0, 0, 0)' && c !== 'transparent') back = rgb(c);
            }
            return [text, back || [255, 255, 255]];
        }""",
        selector,
    )

    def luminance(rgb: list[float]) -> float:
        c = [v / 255 for v in rgb]
        c = [v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4 for v in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]

    a, b = sorted((luminance(colours[0]), luminance(colours[1])), reverse=True)
    return (a + 0.05) / (b + 0.05)


def test_light_and_dark_mode(demo: tuple[object, str]) -> None:
    page, name = demo
    stem = Path(name).stem
    page.evaluate("document.documentElement.dataset.theme = 'light'")  # type: ignore[attr-defined]
    _draw(page, STROKES["0"])
    assert _prediction(page) == "0"
    light = _contrast(page, ".digit-demo-reading")
    _shoot(page, f"{stem}_light")
    page.evaluate("document.documentElement.dataset.theme = 'dark'")  # type: ignore[attr-defined]
    page.wait_for_timeout(200)  # type: ignore[attr-defined]
    dark = _contrast(page, ".digit-demo-reading")
    background = page.evaluate(  # type: ignore[attr-defined]
        "getComputedStyle(document.body).backgroundColor"
    )
    _shoot(page, f"{stem}_dark")
    assert background not in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)"), background
    assert light >= 4.5 and dark >= 4.5, (light, dark)
    assert _prediction(page) == "0"  # the drawing and the reading survive the switch
    for selector in (".digit-demo-clear", ".digit-demo-label", ".digit-demo-prediction",
                     ".digit-demo-best .digit-demo-label"):
        assert _contrast(page, selector) >= 4.5, selector


@pytest.mark.parametrize("name", PAGES, ids=["chapter14", "intro"])
def test_a_phone_draws_with_mouse_and_finger(
    site: Path, server: str, browser: object, name: str
) -> None:
    page, problems = open_page(browser, urljoin(server, name))
    page.set_viewport_size({"width": 375, "height": 740})
    _ready(page)
    page.locator("#digit-canvas").scroll_into_view_if_needed()
    box = _canvas_box(page)
    assert box["x"] >= 0 and box["x"] + box["width"] <= 375, box
    demo = page.locator(".digit-demo").bounding_box()
    assert demo is not None and demo["x"] >= 0 and demo["x"] + demo["width"] <= 375, demo
    _draw(page, STROKES["7"])
    assert _prediction(page) == "7"
    _shoot(page, f"{Path(name).stem}_phone")
    page.screenshot(path=str(SHOTS / f"demo_{Path(name).stem}_phone_page.png"))
    page.get_by_role("button", name="Clear").click()
    _touch(page, STROKES["1"])
    assert _prediction(page) == "1"
    page.close()
    assert problems == []


def test_a_page_without_the_demo_loads_no_model(
    site: Path, server: str, browser: object
) -> None:
    page, problems = open_page(browser, urljoin(server, "book/01_mnist.html"))
    page.wait_for_timeout(300)
    requested = page.evaluate(
        "performance.getEntriesByType('resource').map(e => e.name)"
    )
    assert any("digit-demo.js" in url for url in requested)  # on every page, doing nothing
    assert page.evaluate("typeof window.nnmath.prepare") == "function"
    assert page.locator("#digit-canvas").count() == 0
    assert page.evaluate("typeof window.NNMATH_MODEL") == "undefined"
    page.close()
    assert problems == []
    assert not [url for url in requested if "digit-demo-model" in url]


def test_the_demo_works_from_a_file(site: Path, browser: object) -> None:
    """Opened from disk (file://), not served: the model still loads (a <script>)."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto((site / PAGES[1]).as_uri())
    _ready(page)
    _draw(page, STROKES["7"])
    assert _prediction(page) == "7"
    page.close()
    assert errors == []
