"""Built-in data: procedurally drawn MNIST-like digits, a loader for real MNIST files, batching.

Level L0: imports only numpy, the standard library and ``tinygrad_edu.errors``.
"""

from .batching import batches
from .mnist_files import load_mnist
from .synthetic_digits import load_synthetic_digits

__all__ = ["batches", "load_mnist", "load_synthetic_digits"]
