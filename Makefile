# The README's commands. Each target sets up what it needs: a fresh clone needs only
# Python 3.11+ (and, for the browser checks, Chromium; .ci/run installs it on Debian).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8000
JB     := $(BIN)/jupyter-book build . -W -n --keep-going

.PHONY: setup data book notebooks pdf test check-claims lint serve bench clean

setup: $(STAMP)

# The virtual environment, with every package at the version in requirements.txt and
# nnmath installed editable (chapters say `import nnmath`, never edit sys.path).
$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

# Fetch MNIST once (or verify the folder in NNMATH_DATA) and say where it is.
data: $(STAMP)
	$(BIN)/python -m nnmath.data

# The site, into _build/html. Warnings are errors; outputs are cached in _build and
# re-executed when a chapter or code/nnmath changes.
book: data
	$(JB)

# Every chapter as a notebook, _build/notebooks/book/NAME.ipynb, for Colab and Binder: the
# MyST source through jupytext, no outputs, and a first cell that installs what is missing.
notebooks: $(STAMP)
	$(BIN)/python book/_ext/nnmath_notebooks.py --out _build/notebooks

# The whole book as one PDF, _build/latex/nnmath.pdf: Sphinx's LaTeX builder, XeLaTeX via
# latexmk, warnings as errors. It shares _build/.jupyter_cache with `make book`, so after
# it nothing is executed again. Installs Debian's TeX Live (about 600 MB, 2 minutes) when
# xelatex or latexmk is missing; keep the package list in step with .ci/run's.
pdf: data
	@command -v xelatex >/dev/null && command -v latexmk >/dev/null && command -v pdfinfo >/dev/null || { \
	    sudo=$$(test "$$(id -u)" = 0 || echo sudo); \
	    $$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq --no-install-recommends texlive-xetex texlive-latex-extra \
	    texlive-fonts-recommended fonts-freefont-otf latexmk poppler-utils >/dev/null; }
	LATEXOPTS="-interaction=nonstopmode -halt-on-error" $(JB) --builder pdflatex
	@echo "PDF: _build/latex/nnmath.pdf"

# Every test: the package, the data, the book build (warnings as errors) and the
# rendered site in headless Chromium.
test: data
	$(BIN)/python -m pytest

# The book once more, executed from scratch with other random draws: every seeded call goes
# through nnmath.seeding.rng, which adds $$NNMATH_SEED_OFFSET to its seed. Any cell that
# fails (an assert that held by luck) fails the target. SEED_OFFSET=k picks other draws.
SEED_OFFSET ?= 1
check-claims: data
	rm -rf _build/claims
	NNMATH_SEED_OFFSET=$(SEED_OFFSET) $(JB) --path-output _build/claims

lint: $(STAMP)
	$(BIN)/ruff check code tests benchmarks book/_ext

serve:
	@test -f _build/html/index.html || { echo "no site yet: run 'make book' first"; exit 2; }
	$(BIN)/python -m http.server --bind 127.0.0.1 --directory _build/html $(PORT)

# Speed, side by side with PyTorch's CPU build (an optional dependency, installed here),
# into code/nnmath/speed.json (shipped with the package), which chapter 16 reads. About 10 minutes.
# Then Part V's convolutional network: its epoch against PyTorch's, its memory and the test
# accuracy of three seeds of its recipe, two at a time, into code/nnmath/cnn_speed.json (one
# entry per machine). About 30 minutes more on two cores.
bench: data
	$(BIN)/python -m pip install --quiet "torch==2.13.0"
	$(BIN)/python benchmarks/bench_twolayer.py --reference
	$(BIN)/python benchmarks/bench_speed.py --out code/nnmath/speed.json
	$(BIN)/python benchmarks/bench_cnn.py --seeds 0 1 2 --jobs 2 --out code/nnmath/cnn_speed.json

clean:
	rm -rf _build .pytest_cache .ruff_cache .hypothesis
