"""The stages of a run, named in one place.

The flow runs them in this order, the progress line labels them, the failure
notice and the run record name the stage a run died in, and the tests'
crash hooks pause at their start. No Prefect here: the command imports it.
"""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    """One step of a run; its value is what the progress line, the logs and the run record say."""

    START = "start"  # before the first stage: taking the lock, recording the run
    LAND = "land"
    VALIDATE = "validate"
    FINGERPRINT = "fingerprint"  # check inputs: skip reconcile → publish when nothing changed
    RECONCILE = "reconcile"
    COMPUTE = "compute"
    AUDIT = "audit"
    PUBLISH = "publish"


# The nightly run, in order; a backfill reads no file and recomputes from reconcile on.
NIGHTLY_STAGES: tuple[Stage, ...] = (
    Stage.LAND,
    Stage.VALIDATE,
    Stage.FINGERPRINT,
    Stage.RECONCILE,
    Stage.COMPUTE,
    Stage.AUDIT,
    Stage.PUBLISH,
)
BACKFILL_STAGES: tuple[Stage, ...] = NIGHTLY_STAGES[NIGHTLY_STAGES.index(Stage.RECONCILE) :]

STAGE_LABELS: dict[str, str] = {
    Stage.LAND: "接收 land",
    Stage.VALIDATE: "校验 validate",
    Stage.FINGERPRINT: "比对 check inputs",
    Stage.RECONCILE: "核对 reconcile",
    Stage.COMPUTE: "计算 compute",
    Stage.AUDIT: "审核 audit",
    Stage.PUBLISH: "发布 publish",
}
