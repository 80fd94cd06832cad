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
    """Something impossible was asked for (exit 2). ``option`` names the argument at fault as the
    library's keyword (``layer_range``), ``value`` what it was given: the CLI words them as its flag."""

    exit_code = 2

    def __init__(self, message: str, option: str | None = None, value: object = None) -> None:
        where = option if option is None or value is None else f"{option}={value!r}"
        super().__init__(f"{where}: {message}" if where else message)
        self.message = message
        self.option = option
        self.value = value


class NoRunError(InputError):
    """No training log could be read from the paths given (exit 3); ``problems`` has one line
    for each problem met, naming its file."""

    def __init__(self, path: object, problems: tuple[str, ...]) -> None:
        first = problems[0] if problems else "no CSVLogger file, History JSON or TensorBoard events found"
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        super().__init__(path, f"no training log could be read: {first}{more}")
        self.problems = problems
