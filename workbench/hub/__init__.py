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
