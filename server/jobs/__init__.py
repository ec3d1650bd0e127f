"""Jobs that span areas and run on their own schedule: housekeeping (sessions, stored results, tombstones,
retention) and the deadline reminders. They use the areas; no area calls into them."""
