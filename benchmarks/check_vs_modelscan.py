"""The Lambda/code-reference rules of ``kinspect check`` next to modelscan on the same files.

Usage: python benchmarks/check_vs_modelscan.py MODELSCAN_EXE FILE... > benchmarks/results/check.md

modelscan is run as installed (its own virtualenv, with h5py for HDF5 files); a file counts as
flagged when modelscan reports at least one issue, and for kinspect when a KIN101 or KIN102
finding is reported. Each tool runs once per file; times include interpreter start-up.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time


def modelscan(exe: str, path: str) -> tuple[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "r.json")
        start = time.perf_counter()
        proc = subprocess.run(
            [exe, "-p", path, "-r", "json", "-o", out], capture_output=True, text=True, cwd=tmp
        )
        took = time.perf_counter() - start
        if not os.path.exists(out):
            return f"no report (exit {proc.returncode})", took
        with open(out) as fh:
            report = json.load(fh)
    issues = report.get("issues", [])
    skipped = report.get("summary", {}).get("skipped", {}).get("skipped_files", [])
    if issues:
        ops = sorted({f"{i.get('operator', '?')} ({i.get('severity', '?').lower()})" for i in issues})
        return "**flagged**: " + ", ".join(ops), took
    scanned = report.get("summary", {}).get("scanned", {}).get("scanned_files", [])
    return ("no issue" if scanned else "not scanned") + (" (skipped)" if skipped else ""), took


def kinspect(path: str) -> tuple[str, float]:
    start = time.perf_counter()
    args = ["check", "--no-config", "--select", "KIN101,KIN102", "--format", "json", path]
    proc = subprocess.run([sys.executable, "-m", "kinspect", *args], capture_output=True, text=True)
    took = time.perf_counter() - start
    found = json.loads(proc.stdout)["files"][0]["findings"]
    if not found:
        return "no issue", took
    return "**flagged**: " + ", ".join(
        sorted({f"{f['rule']} {f['layer'] or ''}".strip() for f in found})
    ), took


def main() -> None:
    exe, files = sys.argv[1], sys.argv[2:]
    print("| file | what it holds | modelscan | kinspect check (KIN101/KIN102) | modelscan s | kinspect s |")
    print("|---|---|---|---|--:|--:|")
    for spec in files:
        path, _, note = spec.partition("=")
        m, mt = modelscan(exe, path)
        k, kt = kinspect(path)
        print(f"| `{os.path.basename(path)}` | {note} | {m} | {k} | {mt:.2f} | {kt:.2f} |")


if __name__ == "__main__":
    main()
