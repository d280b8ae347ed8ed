"""How KPI results are shown: one view per KPI spec (its chart, its sentence, the values shown
beside it and the label of its headline number), walked by the report and the CLI.

``afterclick.views.registry.VIEWS`` is the only place that connects KPIs to charts and sentences.
"""
