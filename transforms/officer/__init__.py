"""What people read, as data: published figures and open issues as rows, words and sheets.

In: mart rows, `dq_issues` and `dq_reporting` rows, reference areas, the catalog.
Out: frames and strings, in Chinese with English alongside (IDs masked, values rounded
for display only). `labels` (the words for codes), `views` (the terminal commands),
`report` (the officer report's rows and sheets), `explain` (the records behind one
figure), `bulletin` (the quarterly bulletin's ranked rows), `mart_presentation`
(exports' headers, display rounding, the generated data dictionary),
`upload_templates` (what the template workbooks and docs/uploads.md contain).
No HTML here: reports/ renders these frames. May import all of transforms/.
"""
