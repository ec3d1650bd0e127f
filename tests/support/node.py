"""Running the tablet's plain ES modules in Node, to compare them with their Python twins."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from server.resources import PWA_DIR

__all__ = ["module_export", "node", "run_js"]

JS_DIR = PWA_DIR / "static" / "js"


def node() -> str:
    """The ``node`` executable; a missing Node.js skips the test on a developer machine and fails it in CI."""
    found = shutil.which("node")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Node.js is required under CI=true (apt-get install nodejs)")
        pytest.skip("Node.js is not installed")
    return found


def _run(script: str, stdin: str = "") -> Any:
    done = subprocess.run(
        [node(), "--input-type=module", "-e", script],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout)


def run_js(module: str, expression: str, cases: list[Any]) -> list[Any]:
    """``expression`` (a function of one case, which may return a promise; the module is imported as ``m``) applied
    to every case."""
    script = (
        f"import * as m from {json.dumps((JS_DIR / module).as_uri())};\n"
        "let input = ''; for await (const chunk of process.stdin) input += chunk;\n"
        f"process.stdout.write(JSON.stringify(await Promise.all(JSON.parse(input).map({expression}))));\n"
    )
    answer: list[Any] = _run(script, json.dumps(cases))
    return answer


def module_export(module: str, name: str) -> Any:
    """The JSON value of an exported constant of ``module`` (a path under ``pwa/static/js``)."""
    uri = json.dumps(Path(JS_DIR / module).as_uri())
    return _run(f"import {{ {name} }} from {uri}; process.stdout.write(JSON.stringify({name}));")
