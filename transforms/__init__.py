"""Pure functions over frames, grouped by the stage of the data's way.

Roots (imported by every stage): `templates` (the upload contract, contracts/templates.toml,
as typed objects) and `periods` (reporting periods and the one owner of month and
deadline arithmetic). Then, each stage importing only the roots and the stages before it:
`landing/` → `quality/` → `reconcile/` → `indicators/` → `officer/`. No I/O, no Prefect,
no SQLAlchemy, no environment: frames and bytes in, new frames out.
"""
