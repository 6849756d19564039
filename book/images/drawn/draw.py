"""Draw the ten digits 0-9 on the book's canvas with a mouse, and save each as a PNG.

The canvas is the book's own draw-a-digit demo (book/_static/digit-demo.js), served
on 127.0.0.1 from a scratch folder and opened in headless Chromium through Playwright.
Each digit is drawn as a person draws it with a mouse: one or two strokes along a path
designed by hand for that digit, sent as many small moves (2 to 4 pixels apart), with a
slight slant, a little smooth wobble, an off-centre position and a size of its own (55%
to 85% of the canvas's height). The randomness is seeded, so a second run draws the
same digits. The canvas's pixels (280 x 280, white ink on black) are then written,
through ``canvas.toDataURL("image/png")``, to digit-0.png ... digit-9.png in the
package's code/nnmath/drawn/ (so that a chapter run anywhere, as a notebook too, finds
them: ``nnmath.handwriting.drawn_digits()``).

Run it from the repository with the project's virtual environment::

    .venv/bin/python book/images/drawn/draw.py

It needs Playwright for Python and a Chromium (``--chromium``, /usr/bin/chromium by
default). It checks each file: the PNG's pixels against the canvas's and, when the
``nnmath`` package is importable, the page's ``window.nnmath.prepare`` of the canvas
against ``nnmath.preprocess.prepare_digit`` of the saved PNG.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
from playwright.sync_api import Page, sync_playwright

HERE = Path(__file__).resolve().parent
STATIC = HERE.parents[1] / "_static"  # book/_static: digit-demo.js and digit-demo.css
DRAWN = HERE.parents[2] / "code" / "nnmath" / "drawn"  # where the PNGs go
SIDE = 280  # the canvas is 280 x 280 pixels
PEN = 24  # digit-demo.js's pen width: strokes are kept this far inside the canvas
SEED = 2026
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>draw the digits</title>
<link rel="stylesheet" href="digit-demo.css"></head>
<body><div data-digit-demo></div><script src="digit-demo.js"></script></body></html>
"""

Point = tuple[float, float]
#: A run is a smooth curve through its points; a stroke is runs joined at corners (each
#: run starts where the one before it ends); a digit is its strokes, in the order drawn.
Run = list[Point]
Stroke = list[Run]

#: The path of each digit in a unit box: y from -0.5 (top) to 0.5 (bottom), x to the
#: right, centred on 0, as a person moves the pen (where a stroke starts, which way it
#: turns).
DIGITS: dict[int, list[Stroke]] = {
    # 0: from the top, anticlockwise, a little past the start so that the loop closes.
    0: [
        [
            [
                (0.3 * -math.sin(t) * (0.92 + 0.08 * math.cos(t)), -0.5 * math.cos(t))
                for t in np.linspace(-0.15, 2 * math.pi + 0.3, 17)
            ]
        ]
    ],
    # 1: a small flag up to the top, then straight down.
    1: [
        [
            [(-0.13, -0.35), (-0.04, -0.43), (0.04, -0.5)],
            [(0.04, -0.5), (0.02, 0.0), (0.0, 0.5)],
        ]
    ],
    # 2: over the top and round, down to the bottom left, then along the bottom.
    2: [
        [
            [
                (-0.27, -0.3),
                (-0.16, -0.45),
                (0.04, -0.5),
                (0.22, -0.42),
                (0.27, -0.22),
                (0.17, 0.0),
                (-0.05, 0.24),
                (-0.29, 0.49),
            ],
            [(-0.29, 0.49), (0.0, 0.46), (0.31, 0.48)],
        ]
    ],
    # 3: two bumps, with a turn back in the middle.
    3: [
        [
            [
                (-0.25, -0.38),
                (-0.08, -0.5),
                (0.14, -0.48),
                (0.25, -0.33),
                (0.19, -0.14),
                (-0.04, -0.04),
            ],
            [
                (-0.04, -0.04),
                (0.2, 0.04),
                (0.3, 0.24),
                (0.2, 0.43),
                (-0.02, 0.5),
                (-0.27, 0.4),
            ],
        ]
    ],
    # 4: open at the top: down and across, then the upright from top to bottom.
    4: [
        [
            [(-0.19, -0.5), (-0.25, -0.2), (-0.31, 0.08)],
            [(-0.31, 0.08), (0.0, 0.09), (0.34, 0.06)],
        ],
        [[(0.15, -0.46), (0.14, 0.0), (0.12, 0.5)]],
    ],
    # 5: down and round the belly, then the bar on top.
    5: [
        [
            [(-0.2, -0.47), (-0.22, -0.24), (-0.25, -0.04)],
            [
                (-0.25, -0.04),
                (-0.05, -0.12),
                (0.17, -0.08),
                (0.3, 0.1),
                (0.28, 0.32),
                (0.12, 0.48),
                (-0.1, 0.5),
                (-0.28, 0.4),
            ],
        ],
        [[(-0.18, -0.48), (0.06, -0.5), (0.3, -0.5)]],
    ],
    # 6: from the top right, down the left side, round the bottom and into the loop.
    6: [
        [
            [
                (0.2, -0.5),
                (0.0, -0.38),
                (-0.18, -0.15),
                (-0.28, 0.12),
                (-0.22, 0.4),
                (0.0, 0.5),
                (0.22, 0.4),
                (0.27, 0.18),
                (0.12, 0.02),
                (-0.1, 0.03),
                (-0.25, 0.18),
            ]
        ]
    ],
    # 7: the bar, then down to the bottom, bending a little.
    7: [
        [
            [(-0.3, -0.44), (-0.05, -0.47), (0.3, -0.5)],
            [(0.3, -0.5), (0.13, -0.16), (0.01, 0.15), (-0.07, 0.5)],
        ]
    ],
    # 8: from the top right, an S down to the bottom, then back up through the middle.
    8: [
        [
            [
                (0.2, -0.4),
                (0.0, -0.5),
                (-0.2, -0.4),
                (-0.17, -0.2),
                (0.0, -0.06),
                (0.2, 0.1),
                (0.26, 0.32),
                (0.1, 0.5),
                (-0.12, 0.48),
                (-0.25, 0.3),
                (-0.15, 0.1),
                (0.05, -0.05),
                (0.18, -0.25),
                (0.2, -0.42),
                (0.1, -0.48),
            ]
        ]
    ],
    # 9: the head anticlockwise from its top right, then the stem straight down.
    9: [
        [
            [
                (0.2, -0.44),
                (0.0, -0.5),
                (-0.2, -0.42),
                (-0.26, -0.25),
                (-0.15, -0.08),
                (0.08, -0.08),
                (0.24, -0.22),
                (0.26, -0.38),
            ],
            [(0.26, -0.38), (0.24, 0.0), (0.2, 0.5)],
        ]
    ],
}


# --------------------------------------------------------------------------- the paths


def catmull_rom(points: Run, per_span: int = 40) -> np.ndarray:
    """A smooth curve through ``points`` (centripetal Catmull-Rom), ``(n, 2)``."""
    p = np.asarray(points, dtype=float)
    p = np.vstack(
        [2 * p[0] - p[1], p, 2 * p[-1] - p[-2]]
    )  # end tangents: the first span
    out = [p[1:2]]
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1 : i + 3]
        t1 = math.dist(p0, p1) ** 0.5
        t2 = t1 + math.dist(p1, p2) ** 0.5
        t3 = t2 + math.dist(p2, p3) ** 0.5
        t = np.linspace(t1, t2, per_span + 1)[1:, None]
        a1 = ((t1 - t) * p0 + t * p1) / t1
        a2 = ((t2 - t) * p1 + (t - t1) * p2) / (t2 - t1)
        a3 = ((t3 - t) * p2 + (t - t2) * p3) / (t3 - t2)
        b1 = ((t2 - t) * a1 + t * a2) / t2
        b2 = ((t3 - t) * a2 + (t - t1) * a3) / (t3 - t1)
        out.append(((t2 - t) * b1 + (t - t1) * b2) / (t2 - t1))
    return np.vstack(out)


def stroke_curve(stroke: Stroke) -> np.ndarray:
    """The dense path of a stroke: its runs one after another, ``(n, 2)``."""
    parts = [catmull_rom(run) for run in stroke]
    return np.vstack([parts[0]] + [part[1:] for part in parts[1:]])


def wobble(rng: np.random.Generator, s: np.ndarray, size: float) -> np.ndarray:
    """A small smooth wander of the hand along arc length ``s``, ``(n, 2)`` pixels."""
    out = np.zeros((len(s), 2))
    for axis in range(2):
        for _ in range(3):
            wavelength = rng.uniform(50, 180)
            amplitude = rng.uniform(0.4, 1.0) * size
            phase = rng.uniform(0, 2 * math.pi)
            out[:, axis] += amplitude * np.sin(2 * math.pi * s / wavelength + phase)
    return out


def hand_path(rng: np.random.Generator, curve: np.ndarray) -> np.ndarray:
    """The mouse's positions along ``curve`` (canvas pixels), 2 to 4 pixels apart."""
    steps = np.linalg.norm(np.diff(curve, axis=0), axis=1)
    arc = np.concatenate([[0.0], np.cumsum(steps)])
    s = [0.0]
    while s[-1] < arc[-1]:
        s.append(min(s[-1] + rng.uniform(2, 4), arc[-1]))
    s = np.array(s)
    path = np.column_stack([np.interp(s, arc, curve[:, k]) for k in range(2)])
    return path + wobble(rng, s, size=1.0)


def digit_strokes(
    digit: int, height: float, rng: np.random.Generator
) -> list[np.ndarray]:
    """The mouse's path for each stroke of ``digit``, in canvas pixels, for ink about
    ``height`` pixels tall (the path's height and the pen's width)."""
    slant = math.radians(rng.uniform(5, 13))  # the top leans right, as handwriting does
    turn = math.radians(rng.uniform(-3, 3))
    widen = rng.uniform(0.9, 1.12)
    shape = np.array([[widen, -math.tan(slant)], [0.0, 1.0]])  # x' = w x - tan(slant) y
    rotate = np.array(
        [[math.cos(turn), -math.sin(turn)], [math.sin(turn), math.cos(turn)]]
    )
    curves = [
        (height - PEN) * stroke_curve(stroke) @ (rotate @ shape).T
        for stroke in DIGITS[digit]
    ]
    # Off centre, but with the whole pen's width inside the canvas, and a little more.
    points = np.vstack(curves)
    low, high = points.min(axis=0), points.max(axis=0)
    centre = (low + high) / 2
    margin = PEN / 2 + 8
    want = SIDE / 2 + rng.uniform(-1, 1, size=2) * np.array([24.0, 18.0])
    want = np.clip(want, margin + (centre - low), SIDE - margin - (high - centre))
    return [hand_path(rng, curve - centre + want) for curve in curves]


# --------------------------------------------------------------------------- the page


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serve(folder: Path):
    """A static server on 127.0.0.1 for ``folder``: yields its address."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(100):
            with contextlib.suppress(OSError):
                urllib.request.urlopen(url, timeout=1).close()
                break
            time.sleep(0.05)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def to_screen(page: Page) -> tuple[float, float, float]:
    """Where canvas pixel (0, 0) is on screen, and screen pixels per canvas pixel."""
    page.locator("#digit-canvas").scroll_into_view_if_needed()
    left, top, scale = page.evaluate(
        """() => {
            const c = document.getElementById('digit-canvas');
            const r = c.getBoundingClientRect();  // drawing area: inside the border
            const scale = c.clientWidth / c.width;
            return [r.left + c.clientLeft, r.top + c.clientTop, scale];
        }"""
    )
    return left, top, scale


def draw(page: Page, strokes: list[np.ndarray]) -> int:
    """Draw ``strokes`` with the mouse (press, small moves, release); the moves sent."""
    left, top, scale = to_screen(page)
    mouse = page.mouse
    moves = 0
    for path in strokes:
        x, y = path[0]
        mouse.move(left + x * scale, top + y * scale)
        mouse.down()
        for x, y in path[1:]:
            mouse.move(left + x * scale, top + y * scale)
            moves += 1
        mouse.up()
    page.wait_for_timeout(100)  # an animation frame, at least
    return moves


def clear(page: Page) -> None:
    page.get_by_role("button", name="Clear").click()
    page.wait_for_timeout(50)


def save_canvas(page: Page, path: Path) -> tuple[bytes, list[float] | None]:
    """Write the canvas as a PNG at ``path`` (atomically); its RGBA bytes, the page's
    ``nnmath.prepare`` of them (or None)."""
    found = page.evaluate(
        """() => {
            const c = document.getElementById('digit-canvas');
            const image = c.getContext('2d').getImageData(0, 0, c.width, c.height);
            const prepared = window.nnmath.prepare(image);
            let bytes = '';
            for (let i = 0; i < image.data.length; i += 8192) {
                const chunk = image.data.subarray(i, i + 8192);
                bytes += String.fromCharCode.apply(null, chunk);
            }
            return {png: c.toDataURL('image/png'), rgba: btoa(bytes),
                    prepared: prepared && Array.from(prepared)};
        }"""
    )
    header, data = found["png"].split(",", 1)
    assert header == "data:image/png;base64", header
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".png")
    try:
        os.fchmod(fd, 0o644)  # mkstemp makes it private; these files are for everyone
        with os.fdopen(fd, "wb") as f:
            f.write(base64.b64decode(data))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return base64.b64decode(found["rgba"]), found["prepared"]


def check(path: Path, rgba: bytes, prepared: list[float] | None) -> str:
    """The saved PNG against the canvas: same pixels, same preparation as the page's."""
    from PIL import Image

    with Image.open(path) as image:
        same = image.size == (SIDE, SIDE) and image.convert("RGBA").tobytes() == rgba
    note = "pixels as on the canvas" if same else "PIXELS DIFFER from the canvas"
    try:
        from nnmath import preprocess
    except ImportError:
        return note
    expected = preprocess.prepare_digit(preprocess.read_image(path))
    if prepared is None:
        return f"{note}; the page's nnmath.prepare found no digit"
    diff = float(np.abs(np.asarray(prepared, dtype=np.float32) - expected).max())
    return f"{note}; page vs prepare_digit max |diff| = {diff:.3g}"


def draw_digits(page: Page, out: Path, seed: int) -> None:
    """Draw 0 to 9 on the page's canvas, one at a time, saving each into ``out``."""
    # Each digit a size of its own, spread over 55% to 85% of the canvas's height.
    heights = np.random.default_rng(seed).permutation(np.linspace(0.57, 0.83, 10))
    for digit in range(10):
        rng = np.random.default_rng([seed, digit])
        strokes = digit_strokes(digit, heights[digit] * SIDE, rng)
        clear(page)
        moves = draw(page, strokes)
        path = out / f"digit-{digit}.png"
        rgba, prepared = save_canvas(page, path)
        ink = np.frombuffer(rgba, dtype=np.uint8).reshape(SIDE, SIDE, 4)[..., 0] > 127
        rows = np.flatnonzero(ink.any(axis=1))
        tall = (rows[-1] - rows[0] + 1) / SIDE if len(rows) else 0.0
        print(
            f"{path.name}: {len(strokes)} stroke(s), {moves} moves, ink {tall:.0%} "
            f"of the height; {check(path, rgba, prepared)}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DRAWN, help="folder for the PNGs")
    parser.add_argument("--chromium", default="/usr/bin/chromium", help="the browser")
    parser.add_argument("--seed", type=int, default=SEED, help="seed of the randomness")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    with tempfile.TemporaryDirectory(prefix="nnmath-drawn-") as scratch:
        folder = Path(scratch)  # the page, with copies of the demo's script and style
        for name in ("digit-demo.js", "digit-demo.css"):
            shutil.copy(STATIC / name, folder / name)
        (folder / "index.html").write_text(PAGE, encoding="utf-8")
        with serve(folder) as url, sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=args.chromium, args=CHROMIUM_ARGS
            )
            page = browser.new_page(viewport={"width": 900, "height": 700})
            page.on("pageerror", lambda err: errors.append(str(err)))
            page.goto(url + "index.html")
            page.wait_for_selector("#digit-canvas")
            draw_digits(page, args.out, args.seed)
            browser.close()
    if errors:
        print("errors on the page:", *errors, sep="\n  ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
