"""nnmath: the package behind *Neural Networks from Scratch: MNIST, Equation by Equation*.

Each module holds one idea of the book; each function that computes a labelled equation
says so in its docstring (``Implements: eq-...``), which :mod:`nnmath.ledger` reads.
"""

__version__ = "0.1.0"
