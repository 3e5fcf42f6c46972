"""Knowledge hub: channels, subscriptions, knowledge items and their evolution."""

DEFAULT_CHANNELS = {
    "general": "General knowledge and discoveries",
    "solutions": "Successful solutions to problems",
    "warnings": "Common pitfalls and warnings",
    "optimizations": "Performance optimizations",
    "code": "Code-related knowledge",
    "testing": "Testing strategies",
    "debugging": "Debugging techniques",
}
PRIORITIES = {"LOW": 1, "MEDIUM": 2, "HIGH": 3, "CRITICAL": 4}
PRIORITY_NAMES = {value: name for name, value in PRIORITIES.items()}
KNOWLEDGE_TYPES = ("discovery", "solution", "warning", "optimization", "pattern", "best_practice")
STATES = ("EXPERIMENTAL", "VALIDATED", "DEPRECATED", "ARCHIVED")


def parse_priority(value: str | int) -> int:
    """LOW..CRITICAL (any case) or 1..4 to the stored number; anything else is a ValueError."""
    if isinstance(value, int) and not isinstance(value, bool) and value in PRIORITY_NAMES:
        return value
    if isinstance(value, str):
        name = value.strip().upper()
        if name in PRIORITIES:
            return PRIORITIES[name]
        if name.isdigit() and int(name) in PRIORITY_NAMES:
            return int(name)
    raise ValueError(f"priority must be one of {', '.join(PRIORITIES)} (got {value!r})")
