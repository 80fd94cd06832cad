"""kinspect's exceptions: one root, and a subclass per exit code family."""

from __future__ import annotations


class KinspectError(Exception):
    """Root of every error kinspect reports to the user as one line."""

    exit_code = 3


class InputError(KinspectError):
    """An input could not be read: missing, corrupt, unsupported or hostile (exit 3)."""

    def __init__(self, path: object, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = str(path)
        self.problem = problem


class WeightsMismatchError(InputError):
    """A model file whose stored weights contradict its own config (Keras cannot load it either)."""


class UnsafeArchiveError(InputError):
    """An archive with members that would land outside its folder if extracted."""


class UsageError(KinspectError):
    """The command line asked for something impossible (exit 2)."""

    exit_code = 2
