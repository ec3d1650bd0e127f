"""Every value a record field can take has a label in both languages of the tablet's catalogue (i18n.js), and
the tablet's choices (enums.js) are exactly the schemas' values.

The enum values come from the record schemas themselves (``Literal`` and ``enum`` types of every kind and of the
structs nested in them), so a new value, or a new enum field, without German and English labels fails here.
"""

from __future__ import annotations

import enum
import typing
from collections.abc import Iterator
from typing import Any

import msgspec

from server.records.schemas import KINDS
from server.reports.schema import KEPT_OUTCOMES
from tests.support.node import module_export, run_js

# Which catalogue prefix labels each enum field: "<prefix>.<value>" must exist with a German and an English text.
PREFIXES = {
    "Member.relation": "relation",
    "Household.payment_method": "payment_method",
    "Case.type": "case_type",
    "Case.status": "case_status",
    "Case.risk": "risk",
    "Case.trigger": "trigger",
    "Case.phase": "phase",
    "Case.outcome": "outcome",
    "Visit.status": "visit_status",
    "Case.age_group": "age_group",
    "Case.gender": "gender",
    "Case.household_type": "household_type",
    "Case.income_status": "income_status",
    "Case.nationality_group": "nationality_group",
    "Case.housing_at_start": "housing",
    "Case.housing_at_end": "housing",
    "Case.declined_reason": "declined_reason",
    "Contact.channel": "channel",
    "Contact.direction": "direction",
    "IncomeItem.source": "income_source",
    "BenefitItem.kind": "benefit",
    "Creditor.kind": "creditor",
    "EnergySection.disconnection": "disconnection",
    "CauseSection.causes": "cause",
    "RiskSection.risk": "risk",
    "Assessment.documents": "document",
    "Action.status": "action_status",
    "Action.source_kind": "kind",
    "Action.follow_up": "follow_up",
    "Action.tenancy_held": "tenancy_held",
    "LegalEvent.type": "legal",
    "LegalEvent.notice_kind": "notice_kind",
    "BenefitApplication.period": "benefit_period",
    "BenefitApplication.legal_basis": "legal_basis",
    "BenefitApplication.objection": "objection",
    "Consent.form": "consent_form",
    "BenefitApplication.kind": "benefit",
    "BenefitApplication.decision": "decision",
    "BenefitApplication.form": "benefit_form",
    "InstallmentAgreement.creditor": "creditor_ia",
    "InstallmentAgreement.status": "ia_status",
    "Referral.status": "referral_status",
    "Mediation.status": "mediation_status",
    "Conflict.status": "conflict_status",
    "Attachment.parent_kind": "kind",
    "Attachment.content_type": "content_type",
    "Attachment.purpose": "attachment_purpose",
    "Attachment.signer_role": "signer_role",
}


def enum_values(hint: Any) -> set[str]:
    """The string values a type admits through ``Literal`` or an ``enum`` anywhere inside it."""
    if typing.get_origin(hint) is typing.Literal:
        return {str(value) for value in typing.get_args(hint)}
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return {str(member.value) for member in hint}
    return set().union(*(enum_values(arg) for arg in typing.get_args(hint)))


def nested_structs(hint: Any) -> Iterator[type[msgspec.Struct]]:
    if isinstance(hint, type) and issubclass(hint, msgspec.Struct):
        yield hint
    for arg in typing.get_args(hint):
        yield from nested_structs(arg)


def enum_fields() -> dict[str, set[str]]:
    """``"Struct.field" -> values`` for every enum field of every kind, nested structs included."""
    found: dict[str, set[str]] = {}
    todo: list[type[msgspec.Struct]] = list(KINDS.values())
    seen: set[type[msgspec.Struct]] = set()
    while todo:
        struct = todo.pop()
        if struct in seen:
            continue
        seen.add(struct)
        for name, hint in typing.get_type_hints(struct, include_extras=True).items():
            if typing.get_origin(hint) is typing.ClassVar:
                continue
            if values := enum_values(hint):
                found[f"{struct.__name__}.{name}"] = values
            todo.extend(nested_structs(hint))
    return found


def schema_enums() -> dict[str, set[str]]:
    """``prefix -> values``: what the tablet's ``ENUMS`` must hold (record kinds included, under ``kind``)."""
    by_prefix: dict[str, set[str]] = {"kind": set(KINDS)}
    for name, values in enum_fields().items():
        by_prefix.setdefault(PREFIXES[name], set()).update(values)
    return by_prefix


def test_every_enum_field_has_a_catalogue_prefix() -> None:
    assert set(enum_fields()) == set(PREFIXES)


def test_every_enum_value_has_a_german_and_an_english_label() -> None:
    labels: dict[str, list[str]] = module_export("i18n.js", "CATALOGUE")
    missing = sorted(
        f"{PREFIXES[name]}.{value}"
        for name, values in enum_fields().items()
        for value in values
        if len(labels.get(f"{PREFIXES[name]}.{value}", [])) != 2 or not all(labels[f"{PREFIXES[name]}.{value}"])
    )
    assert not missing, f"labels missing in pwa/static/js/i18n.js: {missing}"


def test_the_walk_finds_nested_enums() -> None:
    fields = enum_fields()
    assert fields["CauseSection.causes"] >= {"job_loss", "illness"}
    assert "lost_homeless" in fields["Case.outcome"]


def test_the_tablet_takes_its_choices_from_the_schemas() -> None:
    enums: dict[str, list[str]] = module_export("enums.js", "ENUMS")
    assert {prefix: set(values) for prefix, values in enums.items()} == schema_enums()
    assert all(len(values) == len(set(values)) for values in enums.values())


def test_every_field_of_every_kind_has_a_label_for_the_conflict_screen() -> None:
    # A conflict names one field of one record; the screen shows it as "<kind> – <field>" in German and English.
    labels: dict[str, list[str]] = module_export("i18n.js", "CATALOGUE")
    missing = sorted(
        f"{kind}.{name}"
        for kind, schema in KINDS.items()
        if kind != "conflict"
        for name in schema.__struct_fields__
        if not any(len(labels.get(key, [])) == 2 for key in (f"field.{kind}.{name}", f"conflict_field.{name}"))
    )
    assert not missing, f"field labels missing in pwa/static/js/i18n.js: {missing}"


def test_counted_texts_agree_with_their_number_in_both_languages() -> None:
    cases = [
        ["deadline.in_days", 0, "de", "heute"],
        ["deadline.in_days", 1, "de", "morgen"],
        ["deadline.in_days", 2, "de", "in 2 Tagen"],
        ["deadline.in_days", 1, "en", "tomorrow"],
        ["deadline.in_days", 21, "en", "in 21 days"],
        ["badge.waiting", 1, "de", "1 Änderung noch nicht übertragen"],
        ["badge.waiting", 0, "de", "0 Änderungen noch nicht übertragen"],
        ["badge.waiting", 1, "en", "1 change not sent yet"],
        [
            "case.reassigned_work",
            1,
            "de",
            "1 Eintrag wurde nach einer Neuzuordnung von der vorherigen Fachkraft übernommen.",
        ],
        ["mediation.sessions", 1, "de", "1 Vermittlungsgespräch"],
        ["mediation.sessions", 3, "en", "3 sessions"],
        ["lock.wrong", 1, "de", "Falsche PIN. Noch 1 Versuch."],
        ["docs.pages", 2, "de", "PDF, 2 Seiten"],
    ]
    shown = run_js("i18n.js", "([key, n, language]) => m.t(key, { n }, key, language)", cases)
    assert shown == [case[3] for case in cases]
    # Every counted text has a form for one and for the rest, in both languages.
    labels: dict[str, list[str]] = module_export("i18n.js", "CATALOGUE")
    split = [
        key
        for key, texts in labels.items()
        if any("|" in text for text in texts) and not all("|" in text for text in texts)
    ]
    assert not split, f"plural forms in one language only: {split}"


# Fields a case-work form asks with a control of its own, outside FORMS (screens/work.js): the consent a referral
# rests on, the cases a mediation is between.
OWN_CONTROLS = {"referral": {"consent_id"}, "mediation": {"party_case_ids"}}


def admits_none(hint: Any) -> bool:
    if typing.get_origin(hint) is typing.Annotated:
        return admits_none(typing.get_args(hint)[0])
    return hint is type(None) or any(admits_none(arg) for arg in typing.get_args(hint) if arg is type(None))


def form_problems(forms: dict[str, list[list[Any]]], sections: dict[str, list[list[Any]]]) -> list[str]:
    """Where the tablet's copies of the schemas (formfields.js) differ from the schemas: a field the record does not
    have (on a kind, a section, or a row of a list), or a ``required`` that is not the kind's required on creation."""
    problems: list[str] = []

    def check(struct: type[msgspec.Struct], specs: list[list[Any]], where: str) -> None:
        hints = {
            name: hint
            for name, hint in typing.get_type_hints(struct, include_extras=True).items()
            if typing.get_origin(hint) is not typing.ClassVar
        }
        for spec in specs:
            name, kind = spec[0], spec[1]
            if name not in hints:
                problems.append(f"{where}.{name}: the schema has no such field")
            elif kind == "list":
                rows = [s for s in nested_structs(hints[name]) if s is not struct]
                check(rows[0], spec[2], f"{where}.{name}[]") if rows else problems.append(f"{where}.{name}: no rows")

    for kind, specs in forms.items():
        schema = KINDS[kind]
        check(schema, specs, kind)
        # Required on the form: what the schema requires on creation (less what a control of its own asks, outside
        # the field list), and a choice the schema cannot take empty (an enum with a default, never null).
        hints = typing.get_type_hints(schema, include_extras=True)
        asked = {spec[0] for spec in specs}
        never_null = {n for n in asked if n in hints and enum_values(hints[n]) and not admits_none(hints[n])}
        expected = (set(schema.REQUIRED_ON_CREATE) - OWN_CONTROLS.get(kind, set())) | never_null
        required = {spec[0] for spec in specs if len(spec) > 4 and spec[4]}
        if required != expected:
            problems.append(f"{kind}: the form requires {sorted(required)}, the schema {sorted(expected)}")
    assessment = typing.get_type_hints(KINDS["assessment"], include_extras=True)
    for section, specs in sections.items():
        structs = list(nested_structs(assessment.get(section)))
        if not structs:
            problems.append(f"assessment.{section}: the schema has no such section")
            continue
        check(structs[0], specs, f"assessment.{section}")
    return problems


def test_the_tablets_forms_name_only_the_schemas_fields_and_require_what_they_require() -> None:
    forms, sections = module_export("formfields.js", "FORMS"), module_export("formfields.js", "SECTIONS")
    assert form_problems(forms, sections) == []


def test_the_form_check_sees_a_field_the_schema_lacks_and_a_wrong_required() -> None:
    forms = {
        "action": [["title", "short", None, None, True], ["due_on", "date", None, None, True], ["urgency", "short"]]
    }
    sections = {"arrears": [["rent_arrears_cents", "cents"], ["rent_owed_cents", "cents"]], "garden": [["x", "text"]]}
    problems = form_problems(forms, sections)
    assert "action.urgency: the schema has no such field" in problems
    assert "assessment.arrears.rent_owed_cents: the schema has no such field" in problems
    assert "assessment.garden: the schema has no such section" in problems
    wrong = form_problems({"referral": [["service", "short"], ["status", "enum", [], "x", True]]}, {})
    assert "referral: the form requires ['status'], the schema ['service', 'status']" in wrong


def test_the_report_words_every_value_as_the_tablet_does() -> None:
    """The report's lines read the tablet's catalogue (server/reports/labels.py): an outcome, a channel or a
    benefit is worded one way on the screen, in the printed report and in the CSV."""
    from server.reports import labels

    shared = {
        "channel": labels.CHANNEL_LABELS,
        "outcome": labels.OUTCOME_LABELS,
        "benefit": labels.BENEFIT_LABELS,
        "case_type": labels.CASE_TYPE_LABELS,
        "legal_basis": labels.LEGAL_BASIS_LABELS,
        "enquiry_topic": labels.TOPIC_LABELS,
    }
    # "unknown" is a report-only line of the other lists ("ohne Angabe"), an outcome of its own here.
    keys = [
        f"{prefix}.{value}"
        for prefix, words in shared.items()
        for value in words
        if value != "unknown" or prefix == "outcome"
    ]
    tablet = run_js("i18n.js", "(key) => m.t(key, {}, null, 'de')", keys)
    report = [shared[key.split(".")[0]][key.split(".")[1]] for key in keys]
    assert report == tablet
    # One outcome list: every outcome of the schema, worded once; the kept ones say what the rate counts.
    assert list(labels.OUTCOME_LABELS) == module_export("enums.js", "ENUMS")["outcome"]
    assert labels.OUTCOME_LABELS["secured"] == "Wohnung erhalten, ohne weitere Hilfe"
    assert all(labels.OUTCOME_LABELS[o].startswith("Wohnung erhalten") for o in KEPT_OUTCOMES)
    assert labels.OUTCOME_LABELS["lost_homeless"] != labels.OUTCOME_LABELS["unknown"]
