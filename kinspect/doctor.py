"""``kinspect doctor``: what is installed, since most plot_model trouble is an install problem.

Versions come from package metadata, so nothing heavy (keras, tensorflow) is imported.
"""

from __future__ import annotations

import platform
import sys
from dataclasses import dataclass
from importlib import metadata

from kinspect.graphviz import INSTALL_HINT, DotInfo, probe

REQUIRED = ("click", "h5py", "numpy", "jinja2", "rich")
# Optional: never needed by kinspect itself; shown because users ask "do I need pydot?".
OPTIONAL = {
    "keras": "only to build the test fixtures",
    "tensorflow-cpu": "only to build the test fixtures",
    "tensorflow": "only to build the test fixtures",
    "tf_keras": "only to build the Keras 2 test fixtures",
    "pydot": "not needed: kinspect writes DOT itself",
}
WANTED_FORMATS = ("png", "svg", "pdf")
DOT_WITHOUT_GRAPHVIZ = "'kinspect graph -o FILE.dot' writes DOT text without it"


@dataclass(frozen=True)
class Environment:
    """The versions and tools ``kinspect doctor`` found."""

    kinspect: str
    python: str
    dot: DotInfo
    packages: tuple[tuple[str, str | None], ...]  # (name, version or None if missing)


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def gather() -> Environment:
    names = (*REQUIRED, *OPTIONAL)
    python = f"{platform.python_version()} ({sys.executable}) on {platform.system()} {platform.machine()}"
    return Environment(_version("kinspect") or "?", python, probe(), tuple((n, _version(n)) for n in names))


def render_environment(env: Environment) -> str:
    lines = [f"kinspect {env.kinspect}", f"Python {env.python}"]
    dot = env.dot
    if dot.path is None:
        lines.append(f"Graphviz dot: not found. {INSTALL_HINT}; {DOT_WITHOUT_GRAPHVIZ}")
    else:
        lines.append(f"Graphviz dot: {dot.path} (version {dot.version or 'unknown'})")
        missing = [f for f in WANTED_FORMATS if dot.formats and f not in dot.formats]
        have = ", ".join(f for f in WANTED_FORMATS if f not in missing)
        lines.append(
            f"  image formats: {have or 'none'}" + (f"; missing {', '.join(missing)}" if missing else "")
        )
        lines.append(
            f"  neato: {dot.neato} (large PNGs are drawn from one layout)"
            if dot.neato
            else "  neato: not found (large PNGs are laid out twice)"
        )
    versions = dict(env.packages)
    lines.append("Required: " + ", ".join(f"{n} {versions.get(n) or 'MISSING'}" for n in REQUIRED))
    lines.append("Optional:")
    for name, why in OPTIONAL.items():
        lines.append(f"  {name} {versions.get(name) or 'not installed'} ({why})")
    return "\n".join(lines) + "\n"
