"""The axe-core accessibility audit, injected into a page of the tablet app (``make test`` installs axe-core from
the npm registry, pinned in package-lock.json)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page

__all__ = ["AXE", "audit", "small_targets"]

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


# Controls a finger must hit, smaller than 44 × 44 CSS pixels. A checkbox or radio counts with its label (a tap on
# the label ticks it); a link inside running text is exempt (WCAG 2.5.8 "inline"), as is what is not shown.
_SMALL_TARGETS = """() => {
  const found = [];
  const controls = document.querySelectorAll("button, a[href], input:not([type=hidden]), select, textarea, summary");
  for (const el of controls) {
    let target = el;
    if (el.matches("input[type=checkbox], input[type=radio]")) target = el.closest("label") || el;
    const standalone = el.matches(".button, nav a, .sections a, .tool");
    if (el.matches("a") && !standalone && el.closest("p, li, td, dd, h2, h3, h4")) {
      const parent = el.parentElement;
      if (parent.textContent.trim() !== el.textContent.trim()) continue; // a link in a sentence
    }
    const box = target.getBoundingClientRect();
    if (!box.width || !box.height || getComputedStyle(target).visibility === "hidden") continue;
    if (target.closest(".sr-only, .visually-hidden")) continue;
    if (box.width < 44 || box.height < 44) {
      const name = (el.getAttribute("aria-label") || el.textContent || el.id || el.tagName).trim().slice(0, 40);
      found.push(`${el.tagName.toLowerCase()} "${name}" ${Math.round(box.width)}×${Math.round(box.height)}`);
    }
  }
  return found;
}"""


async def small_targets(page: Page) -> list[str]:
    """The controls on the page smaller than 44 × 44 px (see ``_SMALL_TARGETS``)."""
    found: list[str] = await page.evaluate(_SMALL_TARGETS)
    return found
