"""Upload files as bytes: cells rendered in each file's style, CSV and XLSX writing, lock files."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import xlsxwriter

from synthetic.files import _KIND_TITLES, _OPTIONAL_OMIT, _Files
from synthetic.spec import _FULLWIDTH, _S, Arr, CountySpec, _ymd
from transforms.templates import Column, Template, load_contract

# ------------------------------------------------------------------------- rendering


def _fw(values: Arr, mask: Arr) -> Arr:
    """Full-width digits where `mask`."""
    out = values.copy()
    out[mask] = [str(v).translate(_FULLWIDTH) for v in values[mask]]
    return out


def _date_text(d: Arr, code: str) -> Arr:
    y, m, day = (x.astype(_S) for x in _ymd(d))
    add = np.strings.add
    if code == "iso":
        return add(add(add(add(y, "-"), np.strings.zfill(m, 2)), "-"), np.strings.zfill(day, 2))
    if code == "compact":
        return add(add(y, np.strings.zfill(m, 2)), np.strings.zfill(day, 2))
    if code == "zh":
        return add(add(add(add(add(y, "年"), m), "月"), day), "日")
    sep = {"slash": "/", "dot": "."}.get(code, "-")
    return add(add(add(add(y, sep), m), sep), day)


class _Renderer:
    """Turns canonical records into cells (strings, or typed XLSX values) per file style."""

    def __init__(self, spec: CountySpec, files: list[dict[str, Any]]) -> None:
        self.spec = spec
        self.files = files
        self.contract = load_contract()
        self.rng = np.random.default_rng([spec.seed, 7])
        self._styles: dict[str, Arr] = {}

    def style(self, fidx: Arr, key: str) -> Arr:
        if key not in self._styles:
            self._styles[key] = np.asarray([f[key] for f in self.files], dtype=object)
        return self._styles[key][fidx]

    def cells(self, tpl: Template, R: pd.DataFrame) -> dict[str, Arr]:
        fidx = R["_file"].to_numpy()
        n = len(R)
        xlsx = self.style(fidx, "fmt") == "xlsx"
        out: dict[str, Arr] = {}
        for col in tpl.columns:
            raw = R[col.name].to_numpy()
            out[col.name] = self._column(col, raw, R, fidx, xlsx, n)
        return out

    def _column(self, col: Column, raw: Arr, R: pd.DataFrame, fidx: Arr, xlsx: Arr, n: int) -> Arr:
        rng = self.rng
        fullwidth = self.style(fidx, "fullwidth").astype(bool) & (rng.random(n) < 0.2)
        if col.type == "id":
            ids = np.asarray(raw, dtype=object)
            ok = np.array([isinstance(s, str) and len(s) == 18 for s in ids])
            legacy = ok & R["_legacy"].to_numpy(bool) & self.style(fidx, "legacy").astype(bool)
            ids = np.where(legacy, [s[:6] + s[8:17] if len(s) == 18 else s for s in ids], ids)
            lower = ok & self.style(fidx, "lower_x").astype(bool)
            ids = np.where(lower, [s.replace("X", "x") for s in ids], ids)
            ids = _fw(ids.astype(object), (ok | legacy) & fullwidth)
            quote = (ok | legacy) & self.style(fidx, "id_quote").astype(bool) & (ids != "")
            ids = np.where(quote, ["'" + s for s in ids], ids).astype(object)
            num15 = legacy & xlsx & self.style(fidx, "codes_as_numbers").astype(bool)
            if num15.any():
                ids[num15] = [int(s) for s in ids[num15]]
            return ids
        if col.type == "date":
            d = np.asarray(raw, dtype="datetime64[D]")
            text = np.full(n, "", dtype=object)
            codes = self.style(fidx, "date_fmt")
            nat = np.isnat(d)
            for code in np.unique(codes):
                sel = (codes == code) & ~nat
                if not sel.any():
                    continue
                if code == "excel":
                    text[sel] = d[sel].astype(object)
                elif code == "serial":
                    text[sel] = (d[sel] - np.datetime64("1899-12-30")).astype(np.int64).tolist()
                else:
                    text[sel] = _date_text(d[sel], str(code)).astype(object)
            return text
        if col.type == "sex":
            fmt = self.style(fidx, "sex_fmt")
            zh = np.where(raw == "M", "男", "女")
            num = np.where(raw == "M", "1", "2")
            return np.select([fmt == "zh", fmt == "num"], [zh, num], raw).astype(object)
        if col.type == "yesno":
            fmt = self.style(fidx, "yesno_fmt")
            v = np.asarray(raw, np.int8)
            table = {"zh": ("否", "是"), "yn": ("N", "Y"), "tick": ("", "√"), "num": ("0", "1")}
            text = np.full(n, "", dtype=object)
            for code, (no, yes) in table.items():
                sel = fmt == code
                text[sel & (v == 1)] = yes
                text[sel & (v == 0)] = no
            return text
        if col.type == "money":
            cents = np.asarray(raw, np.int64)
            fmt = self.style(fidx, "money_fmt")
            whole, frac = cents // 100, cents % 100
            plain = np.where(
                frac == 0,
                whole.astype(str).astype(object),
                [f"{a}.{b:02d}" for a, b in zip(whole, frac, strict=True)],
            ).astype(object)
            text = plain.copy()
            comma = fmt == "comma"
            text[comma] = [f"{c / 100:,.2f}" for c in cents[comma]]
            yuan = fmt == "yuan"
            text[yuan] = plain[yuan] + "元"
            text = _fw(text, fullwidth & (fmt != "comma"))
            number = fmt == "number"
            text[number] = (cents[number] / 100).tolist()
            return text
        if col.type == "integer":
            vals = np.asarray(raw, np.int64)
            text = _fw(vals.astype(str).astype(object), fullwidth)
            typed = xlsx & ~fullwidth
            text[typed] = vals[typed].tolist()
            return text
        if col.type == "enum":
            values = np.asarray(raw, dtype=object)
            alias = self.style(fidx, "enum_alias").astype(bool)
            assert col.enum is not None
            alt = {c: (s[1] if len(s) > 1 else c) for c, s in self.contract.enums[col.enum].items()}
            return np.where(alias, [alt.get(v, v) for v in values], values).astype(object)
        if col.type == "area_code":
            codes = np.asarray(raw, dtype=object).copy()
            num = xlsx & self.style(fidx, "codes_as_numbers").astype(bool)
            codes[num] = [int(c) for c in codes[num]]
            return codes
        return np.asarray(raw, dtype=object)

    def header(self, col: Column, style: str) -> str:
        if style == "alias" and col.aliases:
            return col.aliases[0]
        if style == "star" and (col.required or col.required_unless is not None):
            return "*" + col.header
        if style == "space" and len(col.header) >= 2:
            return col.header[:2] + "\u3000" + col.header[2:] + " "
        if style == "english":
            return col.name
        return col.header


def _quote(values: Arr) -> Arr:
    s = values.astype(_S)
    need = (np.strings.find(s, ",") >= 0) | (np.strings.find(s, '"') >= 0)
    if need.any():
        q = np.strings.add(np.strings.add('"', np.strings.replace(s[need], '"', '""')), '"')
        s[need] = q
    return s


def _render_all(
    spec: CountySpec,
    files: _Files,
    records: dict[str, pd.DataFrame],
    row_numbers: dict[str, pd.DataFrame],
    taken: set[bytes] | None = None,
) -> dict[int, bytes]:
    """Bytes of every file that has a template (records sorted, row numbers assigned).

    `taken`: contents a province's earlier counties already uploaded; a CSV here that
    would repeat one gets its title line, like a repeat within the county. Every
    content made here joins the set."""
    contract = load_contract()
    r = _Renderer(spec, files.rows)
    blobs: dict[int, bytes] = {}
    csv_parts: dict[int, tuple[list[str], list[str], str]] = {}
    by_template: dict[str, list[int]] = {}
    for i, f in enumerate(files.rows):
        if f["status"] != "missing" and f.get("copy_of") is None and f.get("raw") is None:
            by_template.setdefault(f["template"], []).append(i)
    for name, file_ids in by_template.items():
        tpl = contract.templates[name]
        R = records.get(name)
        if R is None:
            R = pd.DataFrame(
                {c.name: [] for c in tpl.columns}
                | {"_file": [], "_order": [], "_tag": [], "_birth": [], "_woman": [], "_legacy": []}
            )
        R = R.sort_values(["_file", "_order"], kind="stable").reset_index(drop=True)
        fidx = R["_file"].to_numpy().astype(np.int64)
        R["_row"] = np.arange(len(R)) - np.searchsorted(fidx, fidx, side="left") + 1
        row_numbers[name] = R
        cells = r.cells(tpl, R) if len(R) else {c.name: np.array([], object) for c in tpl.columns}
        rownum = R["_row"].to_numpy()
        starts = np.searchsorted(fidx, np.asarray(file_ids), side="left")
        ends = np.searchsorted(fidx, np.asarray(file_ids), side="right")
        # CSV lines, built once per layout (the columns a file shows).
        layouts: dict[tuple[str, ...], list[int]] = {}
        for fi in file_ids:
            layouts.setdefault(_layout(tpl, files.rows[fi]), []).append(fi)
        lines = np.full(len(R), "", dtype=object)
        for layout, fis in layouts.items():
            rows_mask = np.isin(fidx, fis) & (r.style(fidx, "fmt") == "csv") if len(R) else None
            if rows_mask is None or not rows_mask.any():
                continue
            parts = []
            for c in layout:
                if c == "_seq":
                    parts.append(R["_row"].to_numpy()[rows_mask].astype(_S))
                else:
                    parts.append(_quote(cells[c][rows_mask]))
            joined = parts[0]
            for p in parts[1:]:
                joined = np.strings.add(np.strings.add(joined, ","), p)
            lines[rows_mask] = joined.astype(object)
        for fi, a, b in zip(file_ids, starts, ends, strict=True):
            f = files.rows[fi]
            layout = _layout(tpl, f)
            head = [
                ("序号" if c == "_seq" else r.header(tpl.column(c), f["header"])) for c in layout
            ]
            if f["fmt"] == "csv":
                csv_parts[fi] = (head, lines[a:b].tolist(), tpl.name)
                blobs[fi] = _csv_file(f, *csv_parts[fi])
            else:
                rows = [
                    [(int(rownum[k]) if c == "_seq" else cells[c][k]) for c in layout]
                    for k in range(a, b)
                ]
                blobs[fi] = _xlsx(spec, f, tpl, head, rows)
    # Two different uploads with the same bytes would be taken for one (uploads.md): an
    # empty file, or a ledger that did not change, repeats last month's bytes. Such CSV
    # files carry a title line naming unit and month, as an Excel export of the sheet would.
    taken = set() if taken is None else taken
    seen: dict[bytes, list[int]] = {}
    for fi, data in blobs.items():
        seen.setdefault(data, []).append(fi)
    for data, group in seen.items():
        for fi in group if data in taken else group[1:]:
            f = files.rows[fi]
            if f["fmt"] == "csv" and not f["title"]:
                f["title"] = True
                blobs[fi] = _csv_file(f, *csv_parts[fi])
    taken.update(blobs.values())
    return blobs


def _csv_file(f: dict[str, Any], head: list[str], lines: list[str], template: str) -> bytes:
    body = [",".join(head), *lines]
    if f["title"]:
        y, m = divmod(f["month"], 12)
        title = (f["township_name"] if f["source"] == "village" else "") + f["unit_name"]
        body.insert(0, f"{title}{y}年{m + 1}月{_KIND_TITLES[template]}" + "," * (len(head) - 1))
    return (f["eol"].join(body) + f["eol"]).encode(f["enc"])


def _layout(tpl: Template, f: dict[str, Any]) -> tuple[str, ...]:
    omit = set(_OPTIONAL_OMIT.get(tpl.name, ())) if f["omit"] else set()
    cols = [c.name for c in tpl.columns if c.name not in omit and c.name not in f["drop"]]
    return (("_seq",) if f["seq_col"] else ()) + tuple(cols)


def _xlsx(
    spec: CountySpec, f: dict[str, Any], tpl: Template, head: list[str], rows: list[list[Any]]
) -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(
        buf,
        {
            "in_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    # Exported when it was sent: the timestamp also keeps two months' empty files apart.
    wb.set_properties({"created": f["arrived_at"] - timedelta(minutes=7), "author": f["unit_name"]})
    ws = wb.add_worksheet("Sheet1")
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    bold = wb.add_format({"bold": True})
    r0 = 0
    if f["title"]:
        y, m = divmod(f["month"], 12)
        ws.write_string(0, 0, f"{f['township_name']}{y}年{m + 1}月{_KIND_TITLES[tpl.name]}", bold)
        del y, m
        ws.write_string(1, 0, f"填报单位：{f['unit_name']}")
        r0 = 3
    ws.write_row(r0, 0, head, bold)
    for i, row in enumerate(rows, start=r0 + 1):
        for j, v in enumerate(row):
            if isinstance(v, str):
                if v:
                    ws.write_string(i, j, v)
            elif isinstance(v, date):
                ws.write_datetime(i, j, datetime(v.year, v.month, v.day), date_fmt)
            elif isinstance(v, (int, float, np.integer, np.floating)):
                ws.write_number(i, j, float(v))
    if f["title"]:
        ws.write_string(r0 + len(rows) + 1, 0, "合计")
        ws.write_string(r0 + len(rows) + 1, 1, f"共{len(rows)}条")
    wb.close()
    return buf.getvalue()


def _lock_file_bytes(owner: str) -> bytes:
    """What Excel leaves beside an open workbook (`~$name.xlsx`): the owner's name."""
    raw = owner.encode("gbk")[:53]
    wide = owner.encode("utf-16-le")
    return (
        bytes([len(raw)])
        + raw.ljust(53, b" ")
        + len(owner).to_bytes(2, "little")
        + wide.ljust(108, b"\x00")
    )
