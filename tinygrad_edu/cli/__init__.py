"""``python -m tinygrad_edu``: the command line (``explain`` a pasted Keras model, ``gradcheck``).

Run ``python -m tinygrad_edu --help``. The entry point is ``tinygrad_edu.cli.main.main(argv)``.
"""
