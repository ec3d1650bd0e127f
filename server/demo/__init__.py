"""Invented demo data for ``make run``: an organisation, "Team Nord" and four logins.

Every name here is made up. The seed runs only on an empty database, so it never touches real data.
"""

from server.demo.seed import DEFAULT_DEMO_PASSWORD, DEMO_USERS, DemoLogin, seed_demo

__all__ = ["DEFAULT_DEMO_PASSWORD", "DEMO_USERS", "DemoLogin", "seed_demo"]
