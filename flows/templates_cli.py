"""`popstat templates --out DIR`: the XLSX upload templates, one per kind.

Generated from transforms/contracts/templates.toml, like docs/uploads.md. No
Prefect, no GX: it answers at once.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from flows.settings import Settings


def add_templates_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """`popstat templates`."""
    parser = commands.add_parser(
        "templates",
        parents=[common],
        help="生成各类上报模板（XLSX，含下拉列表和校验）/ write the XLSX upload templates",
    )
    parser.add_argument("--out", required=True, help="输出文件夹 / output folder")


def command_templates(args: argparse.Namespace, settings: Settings) -> int:
    """Write every kind's template into --out and say what each is for."""
    from transforms.templates import load_contract
    from warehouse.template_workbooks import write_templates

    written = write_templates(load_contract(), Path(args.out))
    zh = settings.lang == "zh"
    print(
        f"已生成 {len(written)} 个上报模板 → {Path(args.out).resolve()}"
        if zh
        else f"wrote {len(written)} upload templates to {Path(args.out).resolve()}"
    )
    for book, path in written:
        required = sum(c.required for c in book.columns)
        checked = sum(c.validation is not None for c in book.columns)
        print(
            f"  {path.name}: {len(book.columns)} 列（必填 {required}，带校验 {checked}）"
            f"，填好后命名为 {book.upload_name}"
            if zh
            else f"  {path.name}: {len(book.columns)} columns ({required} required, "
            f"{checked} validated); upload as {book.name}_<unit>_<YYYYMM>.xlsx"
        )
    return 0
