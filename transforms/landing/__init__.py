"""Landing: one uploaded file (its name and bytes) in, a staged frame out.

Grain out: one row per uploaded row, typed to the template's canonical values
(the `stg_<template>` shape, with its `err_<column>` codes and row numbers), and the
manifest's decisions (one row per file: new, duplicate, superseded, late).
`filenames` (what a file name says), `readers` (bytes → strings under the header row),
`normalise` (strings → canonical values), `identity` (citizen ID numbers: cleaning,
validation, person keys, masks), `manifest_rules`. Imports the transforms roots only.
"""
