"""Cognitive patterns, the learning engine and the continuous-learning loop."""

PATTERNS = ("convergent", "divergent", "lateral", "systems", "critical", "adaptive")
