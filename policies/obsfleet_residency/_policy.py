"""Findings, and the SDK policy objects built around the plain check functions.

A check returns Findings. Certain ones are violations, reported by the policy that found them at
its enforcement level. Uncertain ones ("cannot verify": a value unknown during preview, a secret,
a destination outside the stack) must neither pass silently nor fail a preview on a guess, and
the SDK fixes one level per policy: the advisory `*-unverifiable` policies report them instead
(see `unverifiable_policy`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.policy import Policy

from ._attribution import Subject, declare, forget_analysis
from ._regions import ISO_COUNTRIES, Regime


@dataclass(frozen=True)
class Finding:
    urn: str
    message: str  # what is wrong, then "Remediation: ..."
    certain: bool = True
    topic: str = ""  # what the finding is about on its resource, whatever the wording: one report per topic


def finding(subject: Subject, problem: str, remediation: str, *, certain: bool = True, topic: str = "") -> Finding:
    return Finding(subject.urn, f"{subject.type} '{subject.name}': {problem}. Remediation: {remediation}", certain, topic)


StackCheck = Callable[[Sequence[Any], Mapping[str, Any]], Iterable[Finding]]
ResourceCheck = Callable[[Subject, Mapping[str, Any]], Iterable[Finding]]

RESIDENCY_SCHEMA = PolicyConfigSchema(
    properties={
        "regime": {
            "type": "string",
            "enum": sorted(r.value for r in Regime),
            "description": "The stack's regime; default: the data-residency tag/label of its providers.",
        },
        "allowedCountries": {
            "type": "array",
            "items": {"type": "string", "enum": sorted(ISO_COUNTRIES)},
            "description": "ISO 3166-1 alpha-2 codes that REPLACE the regime's default countries.",
        },
        "allowAdequacy": {
            "type": "boolean",
            "default": False,
            "description": "gdpr only: also allow countries with an EU adequacy decision (GB, CH, JP, ...).",
        },
    }
)


def stack_policy(
    name: str,
    description: str,
    level: EnforcementLevel,
    check: StackCheck,
    remediation: str,
    schema: Optional[PolicyConfigSchema] = None,
) -> StackValidationPolicy:
    return _stack_policy(name, description, level, check, remediation, schema, certain=True)


def unverifiable_policy(
    name: str, description: str, checks: Sequence[StackCheck], schema: Optional[PolicyConfigSchema] = None
) -> StackValidationPolicy:
    """Advisory: what `checks` could not verify."""

    def check(resources: Sequence[Any], config: Mapping[str, Any]) -> Iterable[Finding]:
        for each in checks:
            yield from each(resources, config)

    remediation = "Re-run after `pulumi up` (or audit the stack export) so the values are known, or set them as literals."
    return _stack_policy(name, description, EnforcementLevel.ADVISORY, check, remediation, schema, certain=False)


class _DeclaredAndStackPolicy(ResourceValidationPolicy, StackValidationPolicy):
    """A stack policy that also judges each resource on its own in Analyze. The SDK runs it in
    both calls, under one name (it dispatches on the policy's class, `validate` on the arguments).
    Analyze records each resource's inputs (`declare`: AnalyzeStack does not carry them) and
    reports what those inputs and its provider's already prove (`resource_check`), so an update
    stops before the resource is created; AnalyzeStack judges the whole stack and leaves out what
    Analyze reported (same resource, same topic). The engine analyses every resource before the
    stack, in the same pack process."""

    def __init__(self, name: str, description: str, level: EnforcementLevel, stack_check: StackCheck,
                 resource_check: ResourceCheck, remediation: str, schema: Optional[PolicyConfigSchema]) -> None:
        Policy.__init__(self, name, description, enforcement_level=level, config_schema=schema, remediation_steps=remediation)
        # The SDK's own validate/remediate slots stay empty: `validate` below replaces both kinds'.
        self._ResourceValidationPolicy__validate = None
        self._ResourceValidationPolicy__remediate = None
        self._StackValidationPolicy__validate = None
        self._stack_check = stack_check
        self._resource_check = resource_check
        self._analysed: dict[str, frozenset[str]] = {}  # URN -> topics Analyze reported

    def validate(self, args: Any, report: ReportViolation) -> None:  # type: ignore[override]
        if isinstance(args, StackValidationArgs):
            analysed = self._analysed
            findings = self._stack_check(args.resources, args.get_config())
            _report((found for found in findings if found.topic not in analysed.get(found.urn, ())), report, certain=True)
            self._analysed = {}
            forget_analysis()
        else:
            subject = Subject(args)
            declare(subject)
            found = [each for each in self._resource_check(subject, args.get_config()) if each.certain]
            self._analysed[subject.urn] = frozenset(each.topic for each in found if each.topic)
            _report(found, report, certain=True)


def declared_and_stack_policy(
    name: str,
    description: str,
    level: EnforcementLevel,
    check: StackCheck,
    resource_check: ResourceCheck,
    remediation: str,
    schema: Optional[PolicyConfigSchema] = None,
) -> StackValidationPolicy:
    """A stack policy that reads each resource's declared inputs too (`Subject.declared`) and judges
    each resource in Analyze with `resource_check`."""
    return _DeclaredAndStackPolicy(name, description, level, check, resource_check, remediation, schema)


def _report(findings: Iterable[Finding], report: ReportViolation, *, certain: bool) -> None:
    reported: set[tuple[str, str]] = set()  # several rules can lead to one conclusion
    for found in findings:
        key = (found.urn, found.message)
        if found.certain is certain and key not in reported:
            reported.add(key)
            report(found.message, found.urn or None)


def _stack_policy(
    name: str,
    description: str,
    level: EnforcementLevel,
    check: StackCheck,
    remediation: str,
    schema: Optional[PolicyConfigSchema],
    *,
    certain: bool,
) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        _report(check(args.resources, args.get_config()), report, certain=certain)

    return StackValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=level,
        config_schema=schema,
        remediation_steps=remediation,
    )
