"""A bank account with an append-only event log (amounts in integer cents)."""

from __future__ import annotations

from dataclasses import dataclass


class InsufficientFunds(ValueError):
    """Raised when a withdrawal or transfer would overdraw the account."""


@dataclass(frozen=True)
class Event:
    kind: str
    amount: int
    balance_after: int
    counterparty: str | None = None


class Account:
    def __init__(self, owner: str, opening_balance: int = 0) -> None:
        if not isinstance(owner, str) or not owner.strip():
            raise ValueError("owner must be a non-empty str")
        if isinstance(opening_balance, bool) or not isinstance(opening_balance, int):
            raise TypeError("opening_balance must be an int number of cents")
        if opening_balance < 0:
            raise ValueError("opening_balance must be >= 0")
        self.owner = owner
        self._balance = opening_balance
        self._events: list[Event] = [Event("open", opening_balance, opening_balance)]

    @property
    def balance(self) -> int:
        return self._balance

    @property
    def history(self) -> tuple[Event, ...]:
        return tuple(self._events)

    def deposit(self, amount: int) -> int:
        """Add ``amount`` cents and return the new balance."""
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise TypeError("amount must be an int number of cents")
        if amount <= 0:
            raise ValueError("amount must be positive")
        self._balance += amount
        self._events.append(Event("deposit", amount, self._balance))
        return self._balance

    def withdraw(self, amount: int) -> int:
        """Remove ``amount`` cents and return the new balance."""
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise TypeError("amount must be an int number of cents")
        if amount <= 0:
            raise ValueError("amount must be positive")
        if amount > self._balance:
            raise InsufficientFunds(f"balance {self._balance} < {amount}")
        self._balance -= amount
        self._events.append(Event("withdraw", amount, self._balance))
        return self._balance

    def transfer_to(self, other: Account, amount: int) -> None:
        """Move ``amount`` cents to ``other``; both logs record the transfer."""
        if not isinstance(other, Account):
            raise TypeError("other must be an Account")
        if other is self:
            raise ValueError("cannot transfer to the same account")
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise TypeError("amount must be an int number of cents")
        if amount <= 0:
            raise ValueError("amount must be positive")
        if amount > self._balance:
            raise InsufficientFunds(f"balance {self._balance} < {amount}")
        self._balance -= amount
        other._balance += amount
        self._events.append(Event("transfer_out", amount, self._balance, other.owner))
        other._events.append(Event("transfer_in", amount, other._balance, self.owner))
