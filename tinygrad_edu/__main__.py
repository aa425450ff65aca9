"""``python -m tinygrad_edu``: see ``tinygrad_edu.cli.main`` (explain a Keras model, gradcheck)."""

import sys

from .cli.main import main

if __name__ == "__main__":
    sys.exit(main())
