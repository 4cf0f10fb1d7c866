"""``python -m qwenapp`` is the ``qwenapp`` command."""

from .cli.main import main

main()
