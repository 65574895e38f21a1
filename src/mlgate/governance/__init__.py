"""Governance: the model card, lineage, evidence, compliance checklist and the report that shows
them (Markdown for the pull request, self-contained HTML with charts, JSON)."""
