"""Reconciliation: villages, police and hospitals as one picture.

In: the staged frames of the current uploads (`all_sources.ReconInputs`). Out: the
`recon_*` frames (births: one row per real birth; women: one row per woman per monthly
snapshot; fees, exams, changes, accuracy) and findings. From here on persons are keyed
hashes. `all_sources` (the entry point, `reconcile`; fees and exams), `births` (where a
birth is matched across sources), `women` (the roster), `common` (keys, months,
findings), `cross_checks` (the checks that need every current upload at once, run
beside reconciliation). Imports the roots, landing/ and quality/.
"""
