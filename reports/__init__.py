"""Presentation for people: the officer report, its explanation pages and the bulletin.

Pure like transforms/ (frames in, documents as strings out; no I/O, no database):
the pages are Jinja2 templates (reports/templates/), share one stylesheet
(popstat.css) and one chart helper (reports.charts), and every value from the data
is escaped by one path (reports.rendering). Writing the files is the caller's job
(flows/). May import transforms/ only.
"""
