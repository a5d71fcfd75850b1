"""The roster's findings, one row per roster row found wrong (the `dq_issues` shape):
roster_dead_or_moved_out, roster_stale_method (accuracy), roster_duplicate_person
(uniqueness), with the officer's message in Chinese and English.

transforms/reconcile/women.py decides which rows; here they are worded.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from transforms.reconcile.common import empty_findings, findings_frame, iso_date, masked, text

_METHOD_EN = {
    "上环": "IUD",
    "结扎": "sterilisation",
    "皮埋": "implant",
    "药具": "pills/condoms",
    "其他": "other",
    "无": "none",
}
_PROCEDURE_EN = {
    "放环": "IUD insertion",
    "取环": "IUD removal",
    "结扎": "sterilisation",
    "皮埋": "implant",
}


def _roster_row(rows: pd.DataFrame) -> dict[str, object]:
    """Where a roster finding points: the village's roster row, its woman masked (warning)."""
    return {
        "severity": "warning",
        "source": "village",
        "kind": "women",
        "unit": rows["area_code"],
        "report_month": rows["report_month"],
        "upload_id": rows["upload_id"],
        "row_number": rows["row_number"],
        "record_key": masked(rows, "id_number"),
    }


def removal_findings(rows: pd.DataFrame, death: str) -> pd.DataFrame:
    """roster_dead_or_moved_out: a roster row of a woman the police registered as dead
    (`removal_type` == `death`) or moved out on or before the roster's month."""
    if rows.empty:
        return empty_findings()
    when = iso_date(rows["removal_date"])
    dead = rows["removal_type"] == death
    what_zh = pd.Series(np.where(dead, "死亡注销", "户口迁出"), index=rows.index)
    what_en = pd.Series(np.where(dead, "dead (死亡注销)", "moved out (迁出)"), index=rows.index)
    month = rows["report_month"]
    return findings_frame(
        rows.index,
        {
            "rule": "roster_dead_or_moved_out",
            "dimension": "accuracy",
            **_roster_row(rows),
            "value": rows["removal_type"] + " " + when,
            "message_zh": "公安已于"
            + when
            + "办理该妇女的"
            + what_zh
            + "，但"
            + month
            + "花名册仍列有她。请从花名册中删除她（她已不计入已婚育龄妇女）。",
            "message_en": "The police registered this woman as "
            + what_en
            + " on "
            + when
            + ", but the "
            + month
            + " roster still lists her. Remove her from the roster "
            "(she is no longer counted among the married women of childbearing age).",
        },
    )


def stale_findings(rows: pd.DataFrame) -> pd.DataFrame:
    """roster_stale_method: the roster's method predates a hospital procedure that changed it."""
    if rows.empty:
        return empty_findings()
    when = iso_date(rows["proc_date"])
    month = rows["report_month"]
    method, eff, proc = text(rows["method"]), text(rows["eff_method"]), text(rows["procedure"])
    return findings_frame(
        rows.index,
        {
            "rule": "roster_stale_method",
            "dimension": "accuracy",
            **_roster_row(rows),
            "value": method,
            "message_zh": month
            + "花名册的避孕措施为“"
            + method
            + "”，但医院记录她于"
            + when
            + "做了"
            + proc
            + "手术，措施应为“"
            + eff
            + "”。请核实后更新避孕措施和措施落实日期。",
            "message_en": "The "
            + month
            + " roster gives the contraceptive method as '"
            + method.map(_METHOD_EN).fillna(method)
            + "', but the hospital recorded "
            + proc.map(_PROCEDURE_EN).fillna(proc)
            + " on "
            + when
            + ", so it should be '"
            + eff.map(_METHOD_EN).fillna(eff)
            + "'. Check and update the method and its date.",
        },
    )


def duplicate_findings(rows: pd.DataFrame) -> pd.DataFrame:
    """roster_duplicate_person: a woman on several villages' rosters in one month."""
    if rows.empty:
        return empty_findings()
    month, areas, keeper = rows["report_month"], text(rows["areas"]), text(rows["keeper"])
    return findings_frame(
        rows.index,
        {
            "rule": "roster_duplicate_person",
            "dimension": "uniqueness",
            **_roster_row(rows),
            "value": areas,
            "message_zh": "该妇女出现在"
            + month
            + "多个村的花名册中（"
            + areas
            + "），统计时只计入"
            + keeper
            + "。请相关村核实她的户籍和居住情况，只在一个村登记（或正确标注流入/流出）。",
            "message_en": "This woman is on the "
            + month
            + " rosters of several villages ("
            + areas.str.replace("、", ", ")
            + "); she is counted once, in "
            + keeper
            + ". The villages should check "
            "where she is registered and lives and list her in one roster only (or mark her "
            "correctly as in-migrant / out-migrant).",
        },
    )
