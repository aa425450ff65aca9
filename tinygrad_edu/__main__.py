"""``python -m tinygrad_edu``: see ``tinygrad_edu.cli.main`` (explain a Keras model, gradcheck)."""

import sys

from .cli.main import run

if __name__ == "__main__":
    sys.exit(run())
