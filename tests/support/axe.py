"""The axe-core accessibility audit, injected into a page of the tablet app (``make test`` installs axe-core from
the npm registry, pinned in package-lock.json)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page

__all__ = ["AXE", "audit"]

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"

# What a violation looks like in a report: the rule, its impact, its help text and where (at most five places).
_RUN = """async () => {
  // WCAG 2.2 A and AA, best practices, and the rules axe still calls experimental (label-in-name among them).
  const tags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice", "experimental"];
  const result = await axe.run(document, { resultTypes: ["violations"], runOnly: { type: "tag", values: tags } });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
  }));
}"""


async def audit(page: Page) -> list[dict[str, Any]]:
    """The violations axe-core finds on the page as it stands (axe is evaluated through the DevTools protocol, so
    the app's CSP, which allows no injected script, stays as it is)."""
    if not AXE.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("axe-core is required under CI=true (make node-tools)")
        pytest.skip("axe-core is not installed (make node-tools)")
    if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
        await page.evaluate(AXE.read_text())
    violations: list[dict[str, Any]] = await page.evaluate(_RUN)
    return violations
