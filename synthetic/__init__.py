"""The seeded synthetic county: upload files as bytes and the answer key they must give.

It serves `popstat demo` and the end-to-end tests, which check popstat against the
generator's own answer key, never against popstat's output. Pure like transforms/
(no disk, no environment), but not part of the pipeline: it imports transforms/ (the
templates) only, and nothing of popstat's imports it but flows/ (the demo) and tests.

`county.generate_county(spec)` builds a county from `spec.CountySpec`: `reference`
(geography, areas, institutions, targets), `population` and `simulation` (the women and
their months), `births`, `fees`, `files` (which files arrive when, in what style),
`records` (their rows), `rendering` (bytes), `faults` (what is planted),
`answer_key`. `province.generate_province(n, seed)` puts n such counties under their
prefectures and a province (`popstat demo --counties N`). `seed.generate_seed_county()`
builds the seed township whose figures are indicators.md's worked example
(`seed_township`, `seed_world`).
"""
