"""The front door: households handed over by property management (referrals) and by the court (notices), and the
inbox where a team takes them on (docs/domain.md "Referrals")."""
