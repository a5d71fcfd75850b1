"""Quality: the rules as data, and the checks across rows, uploads and months.

In: staged frames (one row per uploaded row) and the expected uploads. Out: findings
(`rules.FINDING_COLUMNS`: one row per broken rule at one place) and `dq_reporting`
(one row per expected upload). `rules` (every rule code, its dimension, severity and
bilingual message), `checks` (completeness and timeliness of uploads, the fee ledger
and roster across months, outliers). The per-row rules run as Great Expectations
suites in expectations/. Imports the roots and landing/.
"""
