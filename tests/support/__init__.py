"""Code the tests and the benches share: the app in process, accounts, databases, a reference sync client, a
local push service, a live server process and helpers that drive the tablet in Chromium.

Tests import from here, never from another test module or from a conftest.
"""
