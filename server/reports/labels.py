"""The German words of the report's lines: channels, outcomes, benefits, legal bases, installment standings, case
types, triggers, and the choices of an anonymous enquiry."""

from __future__ import annotations

__all__ = [
    "BENEFIT_LABELS",
    "CASE_TYPE_LABELS",
    "CHANNEL_LABELS",
    "INSTALLMENT_LABELS",
    "LEGAL_BASIS_LABELS",
    "OUTCOME_LABELS",
    "REFERRAL_LABELS",
    "TOPIC_LABELS",
    "TRIGGER_LABELS",
]

CHANNEL_LABELS = {
    "phone": "Telefon",
    "email": "E-Mail",
    "sms": "SMS",
    "letter": "Brief",
    "in_person": "Persönlich",
    "home_visit": "Hausbesuch",
}
OUTCOME_LABELS = {
    "secured": "Wohnung erhalten ohne weitere Hilfe",
    "secured_installment": "Wohnung erhalten mit Ratenzahlung",
    "secured_benefit": "Wohnung erhalten mit Leistung / Schuldenübernahme",
    "moved_affordable": "Umzug in eine günstigere Wohnung",
    "lost_housed": "Wohnung verloren, anderweitig untergebracht",
    "lost_homeless": "Wohnung verloren, wohnungslos / unbekannt",
    "no_contact": "Kein Kontakt zustande gekommen",
}
BENEFIT_LABELS = {
    "wohngeld": "Wohngeld",
    "wohnbeihilfe": "Wohnbeihilfe",
    "kdu_direct_payment": "KdU-Direktzahlung / Abtretung",
    "debt_takeover_loan": "Schuldenübernahme (Darlehen)",
    "debt_takeover_grant": "Schuldenübernahme (Beihilfe)",
    "wohnschirm_rent": "Wohnschirm Miete",
    "wohnschirm_energy": "Wohnschirm Energie",
    "other": "Sonstige",
}
INSTALLMENT_LABELS = {
    "kept": "eingehalten",
    "unrecorded": "Zahlung nicht erfasst",
    "behind": "im Rückstand",
    "broken": "gescheitert",
    "completed": "erfüllt",
    "cancelled": "aufgehoben",
}
CASE_TYPE_LABELS = {
    "rent_arrears": "Mietrückstand",
    "energy_debt": "Energieschulden",
    "psychosocial": "Psychosoziale Begleitung",
    "neighbour_conflict": "Nachbarschaftskonflikt",
}
TRIGGER_LABELS = {
    "receivables": "Meldung der Forderungsabteilung",
    "court_notice": "Mitteilung des Amtsgerichts",
    "neighbour_complaint": "Nachbarschaftsbeschwerde",
    "outreach": "Aufsuchende Kontaktaufnahme",
    "self_referral": "Selbstmeldung",
    "unknown": "ohne Angabe",
}
LEGAL_BASIS_LABELS = {
    "sgb2_22_8": "§ 22 Abs. 8 SGB II (Schuldenübernahme Jobcenter)",
    "sgb12_36": "§ 36 SGB XII (Schuldenübernahme Sozialamt)",
    "wogg": "Wohngeldgesetz (WoGG)",
    "sgb2_22_1": "§ 22 Abs. 1 SGB II (Kosten der Unterkunft)",
    "at_wohnbeihilfe": "Wohnbeihilfe (Land)",
    "at_ma40": "MA 40 (Wien)",
    "at_wohnschirm": "Wohnschirm",
    "other": "andere Rechtsgrundlage",
    "unknown": "ohne Angabe der Rechtsgrundlage",
}
TOPIC_LABELS = {
    "rent_arrears": "Mietschulden",
    "notice_or_eviction": "Kündigung oder Räumung",
    "benefits": "Leistungen und Anträge",
    "energy": "Energieschulden",
    "neighbours": "Nachbarschaft",
    "other": "Sonstiges",
}
REFERRAL_LABELS = {
    "none": "nicht weitervermittelt",
    "debt_counselling": "Schuldnerberatung",
    "jobcenter": "Jobcenter",
    "social_services": "Sozialamt",
    "housing_office": "Wohnungsamt",
    "legal_advice": "Rechtsberatung / Mieterverein",
    "other": "andere Stelle",
}
