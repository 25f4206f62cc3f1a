"""The workflow definitions (`data/reference/workflows.yaml`) with a tenant's overrides
(the `workflows` section of its settings) laid over them, checked, and as the small frames
and parameters the SQL under `sql/workflows/` binds."""

from __future__ import annotations

import copy
import math
import re
from functools import cache

import polars as pl

from crm_pipeline.errors import BadArgument
from crm_pipeline.paths import REFERENCE_DIR
from crm_pipeline.yaml_docs import parsed_yaml

DEFINITIONS_FILE = REFERENCE_DIR / "workflows.yaml"
WORKFLOWS = ("lead_nurture", "customer_onboarding", "retention")
EXIT_REASONS = ("goal_met", "disqualified", "criteria_lost", "suppressed", "timed_out", "manual")
WORKFLOW_KEYS = {"outreach", "timeout_days", "disqualify_cold_days", "min_churn_probability",
                 "steps", "final"}
STEP_KEYS = {"owner", "due_days", "next_action", "evidence", "high_score_only", "after_previous"}
EVIDENCE_KEYS = {"types", "direction", "by", "subject"}
FINAL_KEYS = {"step", "owner", "next_action"}
DEFAULT_MIN_CHURN_PROBABILITY = 0.5
NAME = re.compile(r"^[a-z][a-z0-9_.-]*$")
STEPS_SCHEMA = {
    "workflow": pl.String, "step_no": pl.Int32, "step": pl.String, "owner": pl.String,
    "due_days": pl.Int32, "next_action": pl.String, "types": pl.List(pl.String),
    "direction": pl.String, "by": pl.List(pl.String), "subject": pl.String,
    "high_score_only": pl.Boolean, "after_previous": pl.Boolean,
}
WORKFLOWS_SCHEMA = {"workflow": pl.String, "timeout_days": pl.Int32, "final_step": pl.String,
                    "final_owner": pl.String, "final_action": pl.String}


@cache
def _defaults_text() -> str:
    return DEFINITIONS_FILE.read_text(encoding="utf-8")


def _laid_over(base: dict, override, where: str, allowed: set[str]) -> dict:
    """`override` laid over `base` key by key (replaced whole, except `steps`, a step,
    `evidence` and `final`, which are laid over in turn); unknown keys are refused."""
    if not isinstance(override, dict):
        raise BadArgument(f"{where} must be a JSON object")
    out = copy.deepcopy(base)
    for key, value in override.items():
        if key not in allowed:
            raise BadArgument(f"{where} has an unknown key {key!r}: use one of {sorted(allowed)}")
        if key == "steps":
            if not isinstance(value, dict):
                raise BadArgument(f"{where}.steps must be a JSON object")
            for step, spec in value.items():
                if step not in out["steps"]:
                    raise BadArgument(f"{where}.steps has an unknown step {step!r}: use one "
                                      f"of {list(out['steps'])}")
                out["steps"][step] = _laid_over(out["steps"][step], spec,
                                                f"{where}.steps.{step}", STEP_KEYS)
        elif key in ("evidence", "final") and isinstance(out.get(key), dict):
            out[key] = _laid_over(out[key], value, f"{where}.{key}",
                                  EVIDENCE_KEYS if key == "evidence" else FINAL_KEYS)
        else:
            out[key] = value
    return out


def workflow_definitions(settings: dict | None = None, tenant_id: str = "?") -> dict:
    """The workflows as defined by default, with the tenant's `workflows` settings laid over
    them (only the keys given are replaced), checked: a bad value is refused in one line."""
    defs = parsed_yaml(_defaults_text())
    overrides = (settings or {}).get("workflows") or {}
    where = f"tenant {tenant_id}: core.tenants.settings.workflows"
    if not isinstance(overrides, dict):
        raise BadArgument(f"{where} must be a JSON object")
    for name, override in overrides.items():
        if name not in defs:
            raise BadArgument(f"{where} has an unknown workflow {name!r}: use one of "
                              f"{list(WORKFLOWS)}")
        if override:
            defs[name] = _laid_over(defs[name], override, f"{where}.{name}", WORKFLOW_KEYS)
    for name in WORKFLOWS:
        _check(defs[name], f"{where}.{name}" if overrides.get(name) else
               f"{DEFINITIONS_FILE.name}: {name}")
    return defs


def _whole_days(value, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadArgument(f"{name} must be a whole number of days of at least 0, not {value!r}")


def _check(wf: dict, where: str) -> None:
    if not isinstance(wf.get("outreach", False), bool):
        raise BadArgument(f"{where}.outreach must be true or false")
    for key in ("timeout_days", "disqualify_cold_days"):
        if wf.get(key) is not None:
            _whole_days(wf[key], f"{where}.{key}")
            if wf[key] < 1:
                raise BadArgument(f"{where}.{key} must be at least 1 day")
    churn = wf.get("min_churn_probability", DEFAULT_MIN_CHURN_PROBABILITY)
    if isinstance(churn, bool) or not isinstance(churn, int | float) or not math.isfinite(
            churn) or not 0 <= churn <= 1:
        raise BadArgument(f"{where}.min_churn_probability must be between 0 and 1, not {churn!r}")
    steps = wf.get("steps")
    if not isinstance(steps, dict) or not steps:
        raise BadArgument(f"{where}.steps must list at least one step")
    for step, spec in steps.items():
        name = f"{where}.steps.{step}"
        if not isinstance(spec, dict) or not NAME.match(str(step)):
            raise BadArgument(f"{name} must be a mapping of owner, due_days, next_action, evidence")
        if not isinstance(spec.get("owner"), str) or not spec["owner"].strip():
            raise BadArgument(f"{name}.owner must name an agent or role")
        _whole_days(spec.get("due_days"), f"{name}.due_days")
        for flag in ("high_score_only", "after_previous"):
            if not isinstance(spec.get(flag, False), bool):
                raise BadArgument(f"{name}.{flag} must be true or false")
        if not isinstance(spec.get("next_action"), str) or not spec["next_action"].strip():
            raise BadArgument(f"{name}.next_action must say what to do, in words")
        evidence = spec.get("evidence")
        if not isinstance(evidence, dict) or not isinstance(evidence.get("types"), list) or not (
                evidence["types"]):
            raise BadArgument(f"{name}.evidence must give the activity types that complete it")
        if evidence.get("direction") not in (None, "inbound", "outbound"):
            raise BadArgument(f"{name}.evidence.direction must be inbound or outbound")
        if not isinstance(evidence.get("by", []), list):
            raise BadArgument(f"{name}.evidence.by must be a list of roles or agent names")
        if evidence.get("subject") is not None:
            try:
                re.compile(str(evidence["subject"]))
            except re.error as exc:
                raise BadArgument(f"{name}.evidence.subject is not a regular expression "
                                  f"({exc})") from None
    final = wf.get("final")
    if final is not None and not (isinstance(final, dict) and all(
            isinstance(final.get(k), str) and final[k].strip() for k in FINAL_KEYS)):
        raise BadArgument(f"{where}.final must give step, owner and next_action")


def steps_frame(defs: dict) -> pl.DataFrame:
    """One row per workflow step, in order (`wf_steps` in step_evidence.sql)."""
    rows = []
    for workflow in WORKFLOWS:
        for no, (step, spec) in enumerate(defs[workflow]["steps"].items(), start=1):
            evidence = spec["evidence"]
            rows.append({
                "workflow": workflow, "step_no": no, "step": step,
                "owner": spec["owner"].strip().lower(), "due_days": spec["due_days"],
                "next_action": spec["next_action"].strip(),
                "types": [str(t).strip().lower() for t in evidence["types"]],
                "direction": evidence.get("direction"),
                "by": [str(b).strip().lower() for b in evidence.get("by") or []],
                "subject": evidence.get("subject"),
                "high_score_only": bool(spec.get("high_score_only", False)),
                "after_previous": bool(spec.get("after_previous", False)),
            })
    return pl.DataFrame(rows, schema=STEPS_SCHEMA)


def workflows_frame(defs: dict) -> pl.DataFrame:
    """One row per workflow: its timeout and final step (`wf_workflows`)."""
    rows = []
    for workflow in WORKFLOWS:
        final = defs[workflow].get("final") or {}
        rows.append({"workflow": workflow, "timeout_days": defs[workflow].get("timeout_days"),
                     "final_step": final.get("step"),
                     "final_owner": (final.get("owner") or "").strip().lower() or None,
                     "final_action": final.get("next_action")})
    return pl.DataFrame(rows, schema=WORKFLOWS_SCHEMA)


def workflow_params(defs: dict) -> dict:
    """The per-workflow scalars the SQL binds (`$lead_nurture_outreach`, ...)."""
    params = {f"{w}_outreach": bool(defs[w].get("outreach", False)) for w in WORKFLOWS}
    params["lead_nurture_disqualify_cold_days"] = int(
        defs["lead_nurture"].get("disqualify_cold_days") or 36500)
    params["customer_onboarding_timeout_days"] = int(
        defs["customer_onboarding"].get("timeout_days") or 36500)
    params["retention_min_churn_probability"] = float(
        defs["retention"].get("min_churn_probability", DEFAULT_MIN_CHURN_PROBABILITY))
    return params
