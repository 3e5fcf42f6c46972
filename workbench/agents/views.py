"""Read side of recorded agent sessions: what the Agents pane, `agents list|show` and the
MCP resources show. Write-side code lives in the other modules of this package.
"""

from __future__ import annotations


class AgentViews:
    """Queries over agent_sessions / agent_events / agent_tool_calls / agent_advice."""
