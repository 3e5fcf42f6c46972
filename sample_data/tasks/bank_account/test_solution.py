import pytest

from solution import Account, Event, InsufficientFunds


def test_deposit_and_withdraw_update_balance():
    acct = Account("ann", 1_000)
    assert acct.deposit(250) == 1_250
    assert acct.withdraw(1_250) == 0
    assert acct.balance == 0


def test_history_records_running_balance():
    acct = Account("ann")
    acct.deposit(500)
    acct.withdraw(200)
    assert acct.history == (
        Event("open", 0, 0),
        Event("deposit", 500, 500),
        Event("withdraw", 200, 300),
    )


def test_transfer_moves_money_and_logs_both_sides():
    ann, bob = Account("ann", 900), Account("bob", 100)
    ann.transfer_to(bob, 400)
    assert (ann.balance, bob.balance) == (500, 500)
    assert ann.history[-1] == Event("transfer_out", 400, 500, "bob")
    assert bob.history[-1] == Event("transfer_in", 400, 500, "ann")


def test_overdraw_raises_and_leaves_state_unchanged():
    acct = Account("ann", 100)
    with pytest.raises(InsufficientFunds):
        acct.withdraw(101)
    assert acct.balance == 100
    assert len(acct.history) == 1


def test_transfer_overdraw_raises_insufficient_funds():
    ann, bob = Account("ann", 10), Account("bob")
    with pytest.raises(InsufficientFunds):
        ann.transfer_to(bob, 11)
    assert (ann.balance, bob.balance) == (10, 0)


def test_non_positive_amounts_raise_value_error():
    acct = Account("ann", 100)
    with pytest.raises(ValueError):
        acct.deposit(0)
    with pytest.raises(ValueError):
        acct.withdraw(-5)
    with pytest.raises(ValueError):
        acct.transfer_to(acct, 1)


def test_non_integer_amounts_raise_type_error():
    acct = Account("ann", 100)
    with pytest.raises(TypeError):
        acct.deposit(1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Account("bob", "10")  # type: ignore[arg-type]
