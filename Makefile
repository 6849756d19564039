# The README's commands. Each target sets up what it needs: a fresh clone needs only
# Python 3.11+ (and, for the browser checks, Chromium; .ci/run installs it on Debian).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8000
JB     := $(BIN)/jupyter-book build . -W -n --keep-going

.PHONY: setup data book test check-claims lint serve bench clean

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
# into benchmarks/results/speed.json, which chapter 16 reads. About 10 minutes.
bench: data
	$(BIN)/python -m pip install --quiet "torch==2.13.0"
	$(BIN)/python benchmarks/bench_twolayer.py --reference
	$(BIN)/python benchmarks/bench_speed.py --out benchmarks/results/speed.json

clean:
	rm -rf _build .pytest_cache .ruff_cache .hypothesis
