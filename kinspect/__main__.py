"""``python -m kinspect``: the same entry point as the ``kinspect`` command."""

from kinspect.cli import run

if __name__ == "__main__":
    run()
