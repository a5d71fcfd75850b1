"""An independent recomputation of the birth figures, straight from the raw upload files.

This is the check of the published mart that shares no code with `transforms/`,
`warehouse/` or `expectations/`: plain pandas (and python-calamine through pandas for
XLSX) over the inbox and reference folders, written from the written contract only
(docs and the spec's words), so a defect in popstat's readers, normalisers,
reconciliation or indicator code cannot hide itself by being used twice.

It recomputes, for every area (village, township, county) and period (month,
year-to-date, quarter, half-year, year), the rows of `births`,
`policy_compliance_rate`, `multi_child_rate`, `sex_ratio_at_birth` and
`birth_underreport_rate`: numerator, denominator, value and status.

The rules, as the contract states them:

- Files: `<source>_<kind>_<unit>_<YYYYMM>[suffix].csv|xlsx`; the same bytes for the same
  upload identity count once (first arrival); the latest arrival of an identity is the
  current file; a file without its required headers is quarantined and supersedes
  nothing. Arrival is the file's modification time.
- Rows: a row with a required value missing or unreadable, an invalid required ID, a
  value outside its set or range, or a date breaking its column's rule is an error row
  and takes no part in anything (in particular an invalid mother ID does not report a
  birth). Repeated certificate numbers: the first occurrence is kept.
- Births: hospital certificates, police 出生登记 (mother = guardian) and village rows
  are grouped by mother; a mother's records whose dates chain within 180 days are one
  delivery; a delivery holds as many births as the largest count any one source has.
  A valid village row whose mother matches no hospital or police record within ±3 days
  takes the mother of the one hospital record with the same mother name in the same
  village within ±3 days (the name fallback).
- Date and sex: hospital, then police, then village. Area: the reporting village, else
  the hospital's village code, else the police's.
- Known status: policy status and birth order are known only from valid village rows.
- 漏报: a birth of month M is on time when a valid village row for it is in the
  village's upload for M or M+1; once the upload for M+1 is due without one it counts as
  not reported on time, for good; before that it is pending (not 漏报).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

NAME_RE = re.compile(
    r"^(village|police|hospital)_([a-z]+)_([0-9A-Za-z]+)_(\d{4})(\d{2})(?:[_(].*)?\.(csv|xlsx)$"
)
CHECK = "10X98765432"
WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
PROVINCES = {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46} | {
    50,
    51,
    52,
    53,
    54,
    61,
    62,
    63,
    64,
    65,
    71,
    81,
    82,
    83,
}
MATCH_DAYS = 3
DELIVERY_DAYS = 180

# Headers of the birth kinds, as the upload contract lists them: canonical, Chinese, aliases.
HEADERS: dict[str, dict[str, tuple[str, ...]]] = {
    "village_births": {
        "mother_name": ("母亲姓名", "产妇姓名"),
        "mother_id": ("母亲身份证号", "母亲公民身份号码", "产妇身份证号"),
        "child_sex": ("婴儿性别", "性别"),
        "birth_date": ("出生日期", "分娩日期"),
        "birth_order": ("孩次", "胎次"),
        "policy_status": ("政策属性", "计划内外", "是否政策内"),
        "report_date": ("填报日期", "登记日期"),
    },
    "hospital_births": {
        "cert_no": ("出生医学证明编号", "证明编号"),
        "child_sex": ("新生儿性别", "性别"),
        "birth_date": ("出生日期",),
        "mother_name": ("母亲姓名",),
        "mother_id": ("母亲身份证号",),
        "village_code": ("母亲常住地代码", "住址代码"),
    },
    "police_hukou": {
        "event_type": ("变动类型", "业务类型"),
        "name": ("姓名",),
        "id_number": ("公民身份号码", "身份证号"),
        "sex": ("性别",),
        "birth_date": ("出生日期",),
        "event_date": ("变动日期", "登记日期"),
        "village_code": ("村居代码", "社区代码"),
    },
}
OPTIONAL = {"police_hukou": {"guardian_id": ("监护人身份证号", "母亲身份证号")}}
POLICY = {"政策内": "in", "计划内": "in", "是": "in", "政策外": "out", "计划外": "out", "否": "out"}
SEX = {"男": "M", "1": "M", "M": "M", "女": "F", "2": "F", "F": "F"}
EVENTS = {"出生登记", "死亡注销", "迁入", "迁出"}


# ------------------------------------------------------------------------------- values


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    out = unicodedata.normalize("NFKC", str(value)).strip()
    return out or None


def parse_id(value: Any, month_end: date) -> str | None:
    """The 18-character ID, or None when it is missing or invalid."""
    s = _text(value)
    if s is None:
        return None
    s = s.replace(" ", "").lstrip("'").upper()
    if re.fullmatch(r"\d{15}", s):
        s = s[:6] + "19" + s[6:]
        s += CHECK[sum(int(c) * w for c, w in zip(s, WEIGHTS, strict=True)) % 11]
    if not re.fullmatch(r"\d{17}[\dX]", s):
        return None
    if CHECK[sum(int(c) * w for c, w in zip(s[:17], WEIGHTS, strict=True)) % 11] != s[17]:
        return None
    if int(s[:2]) not in PROVINCES:
        return None
    try:
        born = date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        return None
    return s if date(1900, 1, 1) <= born <= month_end else None


def parse_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, pd.Timestamp):
        return value.date()
    s = _text(value)
    if s is None:
        return None
    m = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?: 00:00:00)?", s)
    if not m:
        m = re.fullmatch(r"(\d{4})(\d{2})(\d{2})", s)
    try:
        if m:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        serial = re.fullmatch(r"(\d{5})(?:\.0+)?", s)
        if serial:
            return date(1899, 12, 30) + timedelta(days=int(serial.group(1)))
    except ValueError:
        return None
    return None


def parse_int(value: Any) -> int | None:
    s = _text(value)
    return int(s) if s is not None and re.fullmatch(r"\d+", s) else None


def month_end(year: int, month: int) -> date:
    first_next = date(year + month // 12, month % 12 + 1, 1)
    return first_next - timedelta(days=1)


def deadline(year: int, month: int, day: int) -> date:
    """The due date of the uploads for (year, month): day `day` of the next month."""
    return month_end(year, month) + timedelta(days=day)


def month_add(ym: str, n: int) -> str:
    y, m = int(ym[:4]), int(ym[5:7])
    k = y * 12 + m - 1 + n
    return f"{k // 12:04d}-{k % 12 + 1:02d}"


# -------------------------------------------------------------------------------- files


@dataclass
class Upload:
    path: Path
    source: str
    kind: str
    unit: str
    month: str  # YYYY-MM
    arrived: float
    sha: str


def discover(inbox: Path) -> list[Upload]:
    """Every well-named upload file, oldest arrival first."""
    found = []
    for path in inbox.rglob("*"):
        m = NAME_RE.match(path.name)
        if not path.is_file() or not m:
            continue
        found.append(
            Upload(
                path,
                m[1],
                m[2],
                m[3],
                f"{m[4]}-{m[5]}",
                path.stat().st_mtime,
                hashlib.sha256(path.read_bytes()).hexdigest(),
            )
        )
    return sorted(found, key=lambda u: (u.arrived, str(u.path)))


def _grid(upload: Upload) -> list[list[Any]]:
    if upload.path.suffix == ".xlsx":
        frame = pd.read_excel(upload.path, header=None, dtype=object, engine="calamine")
        return frame.astype(object).where(frame.notna(), None).values.tolist()
    data = upload.path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            decoded = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    frame = pd.read_csv(
        pd.io.common.StringIO(decoded), header=None, dtype=str, keep_default_na=False
    )
    return frame.values.tolist()


def _header_key(cell: Any) -> str:
    s = _text(cell) or ""
    return re.sub(r"\s+", "", s).replace("*", "")


def read_rows(upload: Upload, template: str) -> pd.DataFrame | None:
    """The data rows under the header (canonical column names, `row_number` 1-based), or
    None when no row names every required column (the file is quarantined)."""
    columns = {**HEADERS[template], **OPTIONAL.get(template, {})}
    grid = _grid(upload)
    for i, row in enumerate(grid):
        keys = [_header_key(c) for c in row]
        where = {}
        for canonical, names in columns.items():
            for j, k in enumerate(keys):
                if k == canonical or k in names:
                    where.setdefault(canonical, j)
        if all(c in where for c in HEADERS[template]):
            rows = []
            number = 0
            for data in grid[i + 1 :]:
                cells = [_text(c) for c in data]
                if not any(cells) or "合计" in cells:
                    continue
                number += 1
                rows.append(
                    {
                        "row_number": number,
                        **{c: data[j] if j < len(data) else None for c, j in where.items()},
                    }
                )
            return pd.DataFrame(rows, columns=["row_number", *columns])
    return None


def current_files(uploads: list[Upload], template: str) -> dict[tuple[str, str], Upload]:
    """(unit, month) -> the current readable upload of that identity."""
    source, kind = template.split("_", 1)
    current: dict[tuple[str, str], Upload] = {}
    seen: set[tuple[str, str, str]] = set()
    for u in uploads:
        if (u.source, u.kind) != (source, kind) or (u.unit, u.month, u.sha) in seen:
            continue
        seen.add((u.unit, u.month, u.sha))
        if read_rows(u, template) is not None:
            current[(u.unit, u.month)] = u
    return current


# ------------------------------------------------------------------------------ records


def _month_bounds(month: str) -> tuple[date, date]:
    y, m = int(month[:4]), int(month[5:7])
    return date(y, m, 1), month_end(y, m)


def village_records(uploads: list[Upload]) -> pd.DataFrame:
    """Valid village birth rows: mother, name, village, date, sex, order, policy, month."""
    out = []
    for (unit, month), u in current_files(uploads, "village_births").items():
        _first, last = _month_bounds(month)
        for r in read_rows(u, "village_births").to_dict("records"):  # type: ignore[union-attr]
            mother = parse_id(r["mother_id"], last)
            born = parse_date(r["birth_date"])
            sex = SEX.get(_text(r["child_sex"]) or "")
            order = parse_int(r["birth_order"])
            policy = POLICY.get(_text(r["policy_status"]) or "")
            name = _text(r["mother_name"])
            reported = parse_date(r["report_date"])
            if (
                mother is None
                or born is None
                or born > last
                or sex is None
                or name is None
                or order is None
                or not 1 <= order <= 9
                or policy is None
                or reported is None
            ):
                continue
            out.append(
                {
                    "src": "V",
                    "mother": mother,
                    "name": name,
                    "village": unit,
                    "date": born,
                    "sex": sex,
                    "order": order,
                    "policy": policy,
                    "upload_month": month,
                }
            )
    return pd.DataFrame(
        out,
        columns=[
            "src",
            "mother",
            "name",
            "village",
            "date",
            "sex",
            "order",
            "policy",
            "upload_month",
        ],
    )


def hospital_records(uploads: list[Upload]) -> pd.DataFrame:
    out = []
    certificates: set[str] = set()
    for (_unit, month), u in sorted(
        current_files(uploads, "hospital_births").items(),
        key=lambda kv: (kv[1].arrived, str(kv[1].path)),
    ):
        first, last = _month_bounds(month)
        for r in read_rows(u, "hospital_births").to_dict("records"):  # type: ignore[union-attr]
            cert = _text(r["cert_no"])
            mother = parse_id(r["mother_id"], last)
            born = parse_date(r["birth_date"])
            sex = SEX.get(_text(r["child_sex"]) or "")
            village = _text(r["village_code"])
            name = _text(r["mother_name"])
            if (
                cert is None
                or cert in certificates
                or mother is None
                or born is None
                or not first <= born <= last
                or sex is None
                or name is None
                or village is None
                or not re.fullmatch(r"\d{12}", village)
            ):
                if cert is not None and cert not in certificates and mother is not None:
                    certificates.add(cert)
                continue
            certificates.add(cert)
            out.append(
                {
                    "src": "H",
                    "mother": mother,
                    "name": name,
                    "village": village,
                    "date": born,
                    "sex": sex,
                }
            )
    return pd.DataFrame(out, columns=["src", "mother", "name", "village", "date", "sex"])


def police_records(uploads: list[Upload]) -> pd.DataFrame:
    out = []
    for (_unit, month), u in current_files(uploads, "police_hukou").items():
        first, last = _month_bounds(month)
        for r in read_rows(u, "police_hukou").to_dict("records"):  # type: ignore[union-attr]
            event = _text(r["event_type"])
            child = parse_id(r["id_number"], last)
            born = parse_date(r["birth_date"])
            happened = parse_date(r["event_date"])
            sex = SEX.get(_text(r["sex"]) or "")
            village = _text(r["village_code"])
            if (
                event not in EVENTS
                or child is None
                or born is None
                or happened is None
                or not first <= happened <= last
                or sex is None
                or _text(r["name"]) is None
                or village is None
                or not re.fullmatch(r"\d{12}", village)
                or child[6:14] != born.strftime("%Y%m%d")
            ):
                continue
            mother = parse_id(r.get("guardian_id"), last)
            if event != "出生登记" or mother is None:
                continue
            out.append(
                {
                    "src": "P",
                    "mother": mother,
                    "name": None,
                    "village": village,
                    "date": born,
                    "sex": sex,
                }
            )
    return pd.DataFrame(out, columns=["src", "mother", "name", "village", "date", "sex"])


def _near(a: date, b: date, days: int) -> bool:
    return abs((a - b).days) <= days


def resolve_by_name(village: pd.DataFrame, seen: pd.DataFrame) -> pd.DataFrame:
    """The name fallback: a valid village row no hospital or police record matches by mother
    within ±3 days takes the mother of the one hospital record that fits by name."""
    village = village.copy()
    for i, row in village.iterrows():
        same = seen[seen["mother"] == row["mother"]]
        if any(_near(d, row["date"], MATCH_DAYS) for d in same["date"]):
            continue
        fits = seen[
            (seen["src"] == "H")
            & (seen["name"] == row["name"])
            & (seen["village"] == row["village"])
        ]
        near = [_near(d, row["date"], MATCH_DAYS) for d in fits["date"]]
        fits = fits.loc[pd.Series(near, index=fits.index, dtype=bool)]
        if fits["mother"].nunique() == 1:
            village.at[i, "mother"] = fits["mother"].iat[0]
    return village


# ------------------------------------------------------------------------------- births


def births(inbox: Path, as_of: date, deadline_day: int = 5) -> pd.DataFrame:
    """One row per reconciled birth: area, month, sex, policy/order (or None when not
    known), reported_on_time, pending."""
    uploads = discover(inbox)
    h, p = hospital_records(uploads), police_records(uploads)
    seen = pd.concat([h, p], ignore_index=True)
    v = resolve_by_name(village_records(uploads), seen)
    records = pd.concat([seen, v], ignore_index=True)
    out = []
    for _mother, rows in records.groupby("mother"):
        rows = rows.sort_values("date")
        gaps = rows["date"].diff().map(lambda d: pd.notna(d) and d.days > DELIVERY_DAYS)
        for _, delivery in rows.groupby(gaps.cumsum().to_numpy()):
            out.extend(_delivery_births(delivery, as_of, deadline_day))
    return pd.DataFrame(out)


def _delivery_births(rows: pd.DataFrame, as_of: date, deadline_day: int) -> list[dict]:
    counts = {s: int((rows["src"] == s).sum()) for s in "HPV"}
    village = rows[rows["src"] == "V"]
    # Village rows of several uploads repeating one birth are one report each.
    per_upload = village.groupby("upload_month").size() if len(village) else pd.Series()
    counts["V"] = int(per_upload.max()) if len(per_upload) else 0
    n = max(counts.values())
    winner = next(s for s in "HPV" if counts[s] == n)
    sexes = sorted(rows.loc[rows["src"] == winner, "sex"])
    dated = next(s for s in "HPV" if counts[s])
    born = min(rows.loc[rows["src"] == dated, "date"])
    month = f"{born.year:04d}-{born.month:02d}"
    area = (
        village["village"].iat[0]
        if len(village)
        else rows.loc[rows["src"] == ("H" if counts["H"] else "P"), "village"].iat[0]
    )
    if len(village):
        # The earliest upload holding the most rows for this delivery stands for it.
        best = per_upload[per_upload == per_upload.max()].index.min()
        known = village[village["upload_month"] == best].to_dict("records")
    else:
        known = []
    on_time_rows = village[village["upload_month"].isin([month, month_add(month, 1)])]
    on_time = int(on_time_rows.groupby("upload_month").size().max()) if len(on_time_rows) else 0
    y, m = int(month_add(month, 1)[:4]), int(month_add(month, 1)[5:7])
    next_due = as_of > deadline(y, m, deadline_day)
    out = []
    for i in range(n):
        k = known[i] if i < len(known) else None
        timely = i < on_time
        out.append(
            {
                "area": area,
                "month": month,
                "sex": sexes[i] if i < len(sexes) else None,
                "policy": k["policy"] if k else None,
                "order": k["order"] if k else None,
                "on_time": timely,
                "pending": not timely and not next_due,
                "late_report": not timely and k is not None,
            }
        )
    return out


# -------------------------------------------------------------------------- the figures

INDICATORS = (
    "births",
    "policy_compliance_rate",
    "multi_child_rate",
    "sex_ratio_at_birth",
    "birth_underreport_rate",
)


def periods(months: list[str]) -> dict[str, list[str]]:
    """Period label -> its months, for every period that holds one of `months`."""
    out: dict[str, list[str]] = {}
    for ym in sorted(months):
        y, m = ym[:4], int(ym[5:7])
        out.setdefault(ym, []).append(ym)
        out.setdefault(f"{y}-01..{ym}", [f"{y}-{k:02d}" for k in range(1, m + 1)])
        q, h = (m - 1) // 3 + 1, 1 if m <= 6 else 2
        out.setdefault(f"{y}-Q{q}", []).append(ym)
        out.setdefault(f"{y}-H{h}", []).append(ym)
        out.setdefault(y, []).append(ym)
    return out


def area_tree(reference: Path) -> pd.DataFrame:
    """code, level, and the village -> (village, township, county) membership."""
    return pd.read_csv(reference / "areas.csv", dtype=str, keep_default_na=False)


def figures(
    b: pd.DataFrame, reference: Path, months: list[str], min_births_for_sex_ratio: int = 100
) -> pd.DataFrame:
    """One row per (area, period, indicator): numerator, denominator, value."""
    areas = area_tree(reference)
    parent = dict(zip(areas["code"], areas["parent_code"], strict=True))
    rows = []
    for period, in_period in periods(months).items():
        chosen = b[b["month"].isin(in_period)]
        for code in areas["code"]:
            mine = chosen[chosen["area"].map(lambda a, c=code: _under(a, c, parent))]
            rows.extend(_indicator_rows(code, period, mine))
    return pd.DataFrame(rows)


def _under(area: str, code: str, parent: dict[str, str]) -> bool:
    while area:
        if area == code:
            return True
        area = parent.get(area, "")
    return False


def _indicator_rows(code: str, period: str, b: pd.DataFrame) -> list[dict]:
    known_policy = b[b["policy"].notna()]
    known_order = b[b["order"].notna()]
    counts = {
        "births": (len(b), None, 1),
        "policy_compliance_rate": (
            int((known_policy["policy"] == "in").sum()),
            len(known_policy),
            100,
        ),
        "multi_child_rate": (int((known_order["order"] >= 3).sum()), len(known_order), 100),
        "sex_ratio_at_birth": (int((b["sex"] == "M").sum()), int((b["sex"] == "F").sum()), 100),
        "birth_underreport_rate": (int((~b["on_time"] & ~b["pending"]).sum()), len(b), 100),
    }
    out = []
    for indicator, (num, den, factor) in counts.items():
        value = float(num) if den is None else (num / den * factor if den else None)
        out.append(
            {
                "area_code": code,
                "period": period,
                "indicator": indicator,
                "numerator": float(num),
                "denominator": None if den is None else float(den),
                "value": value,
                "births_in_row": len(b),
            }
        )
    return out


COUNT_INDICATORS = {"births"}
MIN_BIRTHS = {"sex_ratio_at_birth": 100}


def statuses(figures: pd.DataFrame, targets: pd.DataFrame, reference: Path) -> pd.DataFrame:
    """The status of each recomputed row, judged as indicators.md says: a rate target of a
    township or the county applies below it; a count target only to its own area's year;
    `no_data` on a zero denominator; `too_few` below the indicator's minimum of births."""
    areas = area_tree(reference)
    parent = dict(zip(areas["code"], areas["parent_code"], strict=True))
    own = {
        (t["year"], t["area_code"], t["indicator"]): t
        for t in targets.to_dict("records")
        if _valid_target(t)
    }
    out = []
    for r in figures.to_dict("records"):
        year, code, indicator = r["period"][:4], r["area_code"], r["indicator"]
        target = own.get((year, code, indicator))
        if indicator in COUNT_INDICATORS:
            if r["period"] != year:
                target = None
        else:
            area = parent.get(code, "")
            while target is None and area:
                target = own.get((year, area, indicator))
                area = parent.get(area, "")
        out.append(
            {
                "area_code": code,
                "period": r["period"],
                "indicator": indicator,
                "status_ind": _judge(r, target),
            }
        )
    return pd.DataFrame(out)


def _number(text: str) -> bool:
    return re.fullmatch(r"-?\d+(\.\d+)?", text or "") is not None


def _valid_target(t: dict) -> bool:
    """A targets.csv row the contract accepts; any other row is reported, never applied."""
    return (
        re.fullmatch(r"\d{4}", t["year"]) is not None
        and t["op"] in {">=", "<=", "between"}
        and _number(t["target"])
        and (t["op"] != "between" or _number(t["target_hi"]))
    )


def _judge(r: dict, target: dict | None) -> str:
    if r["denominator"] is not None and r["denominator"] == 0:
        return "no_data"
    if r["births_in_row"] < MIN_BIRTHS.get(r["indicator"], 0):
        return "too_few"
    if target is None:
        return "no_target"
    value, low = r["value"], float(target["target"])
    if target["op"] == ">=":
        ok = value >= low
    elif target["op"] == "<=":
        ok = value <= low
    else:
        ok = low <= value <= float(target["target_hi"])
    return "met" if ok else "not_met"
