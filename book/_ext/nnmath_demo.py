"""The digit demo's model, exported into the site at build time.

``book/_static/digit-demo.js`` draws, prepares and reads a digit in the page (chapter 14 and
the landing page). It needs the shipped perceptron's weights, which are not a static file of
the book but the package's ``nnmath/models/mlp.npz``: after an HTML build this extension
writes them, with :func:`nnmath.model_io.export_for_browser`, to
``_static/digit-demo-model.js``, a script the demo loads with a ``<script>`` tag (so the site
works offline, from any static file server and from ``file://``). Other builders (the PDF)
skip it; their pages have no demo.
"""

from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

#: The file digit-demo.js loads, next to itself in _static/.
MODEL_FILE = "digit-demo-model.js"


def export_model(app: Sphinx, exception: Exception | None) -> None:
    """Write the shipped perceptron to ``_static/digit-demo-model.js`` of an HTML build.

    The page's JavaScript has no convolution, so it runs ``mlp.npz``, not the CNN that
    ``nnmath predict`` uses.
    """
    if exception is not None or app.builder.format != "html":
        return
    from nnmath import model_io

    model, meta = model_io.load_model(model_io.shipped_model_path("mlp"), architecture="mlp")
    static = Path(app.outdir) / "_static"
    static.mkdir(parents=True, exist_ok=True)
    keep = ("sizes", "seed", "recipe", "test_accuracy", "test_images", "nnmath_version")
    path = model_io.export_for_browser(
        model, static / MODEL_FILE, metadata={k: meta[k] for k in keep if k in meta}
    )
    logger.info(f"digit demo: wrote {path.name} ({path.stat().st_size:,} bytes)")


def setup(app: Sphinx) -> dict[str, object]:
    app.connect("build-finished", export_model)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
