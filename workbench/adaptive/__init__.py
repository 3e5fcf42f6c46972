"""Adaptive strategy and performance optimizer: learn from recorded outcomes which execution
strategy and which agents to use, and where agents are slow, failing or error-prone."""

COMPLEXITIES = ("TRIVIAL", "SIMPLE", "MODERATE", "COMPLEX", "VERY_COMPLEX")
STRATEGIES = ("single", "sequential", "parallel", "hierarchical", "consensus")
# The order agents work in when several take part (a coordinator first).
AGENT_ORDER = ("architect", "researcher", "coder", "tester", "reviewer", "optimizer")
