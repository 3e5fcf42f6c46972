"""Agent memory tiers (vector, episodic, semantic, working)."""
