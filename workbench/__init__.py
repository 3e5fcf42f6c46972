"""workbench: a terminal workbench for people who build self-improving agent systems."""

__version__ = "0.1.0"
