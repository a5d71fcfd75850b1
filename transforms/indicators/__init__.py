"""Indicators: reconciled frames in, the rows of mart_target_achievement out.

Grain out: one row per area × period × indicator (numerator, denominator, value,
target, status, rank, signed-off share). `catalog` (contracts/indicators.toml as typed
objects: each indicator, 政策符合率 = `policy_compliance_rate` among them, is defined
there as data), `measures` (the named numerators and denominators, per area × month),
`achievement` (rollup, targets, status, rank), `targets` (the one owner of meets,
judge and score), `signoff` (how much of a figure has been reviewed). Imports the
roots, landing/, quality/ and reconcile/.
"""
