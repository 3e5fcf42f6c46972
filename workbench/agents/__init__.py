"""Recorded agent sessions: hook events, transcript import, neutral events, advice.

Nothing here imports Textual or the MCP SDK: `workbench hooks run` goes through this package
on every tool call of an agent and must start fast.
"""
