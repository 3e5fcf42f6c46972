"""Store errors carry one line a user can act on; the CLI prints them and exits 2."""


class StoreError(Exception):
    """The store cannot be opened or used as asked; the message names the cause."""


class StoreLockedError(StoreError):
    """Another process held the database lock for longer than the busy timeout."""
