"""Which checks grade a submission: the public registry, plus the instructor's hidden checks.

Hidden checks live in `checks/hidden/*.py` (or $DIGITCORE_HIDDEN_CHECKS), each file defining `HIDDEN_CHECKS =
[Check(...), ...]` (files starting with "_" are skipped). A hidden check reuses a probe of
digitcore.exercises.probes with its own inputs and judge, which stay on the trusted side.
"""

import dataclasses
import importlib.util
import os
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent.parent
PROBES_FILE = Path(__file__).resolve().parent.parent / "exercises" / "probes.py"


class RegistryError(Exception):
    """A hidden-check file that cannot be used (the message says which and why)."""


def load_hidden(hidden_dir=None) -> dict[str, list]:
    """Run every hidden-check file in the folder (trusted instructor code) and collect its checks."""
    folder = Path(hidden_dir or os.environ.get("DIGITCORE_HIDDEN_CHECKS") or PROJECT / "checks" / "hidden")
    found: dict[str, list] = {}
    for path in sorted(p for p in folder.glob("*.py") if not p.name.startswith("_")):   # none where there is no folder
        spec = importlib.util.spec_from_file_location(f"digitcore_hidden_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except Exception as e:
            raise RegistryError(f"hidden checks file {path} failed to load: {type(e).__name__}: {e}") from e
        checks = getattr(module, "HIDDEN_CHECKS", None)
        if not isinstance(checks, (list, tuple)):
            raise RegistryError(f"{path} must define HIDDEN_CHECKS = [Check(...), ...]")
        for c in checks:
            found.setdefault(c.exercise, []).append(dataclasses.replace(c, hidden=True))
    return found


def checks_for(include_hidden: bool = False, hidden_dir=None, checks=None) -> dict[str, list]:
    """exercise -> checks, public first, then hidden ones when asked for; no two of an exercise share a name."""
    if checks is None:
        from digitcore.exercises import CHECKS as checks
    merged = {ex: [c for c in cs if include_hidden or not c.hidden] for ex, cs in checks.items()}
    if include_hidden:
        for ex, cs in load_hidden(hidden_dir).items():
            merged.setdefault(ex, []).extend(cs)
    for ex, cs in merged.items():
        names = [c.name for c in cs]
        if len(set(names)) != len(names):
            raise RegistryError(f"exercise {ex} has two checks with the same name: {sorted(names)}")
    return merged


def probe_files(checks: dict[str, list]) -> list[str]:
    """The files the worker loads probes from: digitcore.exercises.probes, or wherever the probes of
    a custom registry (tests) were defined."""
    found = {c.probe.__code__.co_filename for cs in checks.values() for c in cs if hasattr(c.probe, "__code__")}
    return sorted({str(PROBES_FILE), *found})
