"""Baselines that choose without looking at the student: random at equal budget, and the full pool."""
