import pytest

from solution import KeyedRateLimiter, TokenBucket


class FakeClock:
    def __init__(self, start: float = 100.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def test_bucket_starts_full_and_drains():
    clock = FakeClock()
    bucket = TokenBucket(3, 1, clock=clock)
    assert [bucket.try_acquire() for _ in range(4)] == [True, True, True, False]


def test_refill_is_proportional_to_elapsed_time_and_capped():
    clock = FakeClock()
    bucket = TokenBucket(4, 2, clock=clock)
    assert bucket.try_acquire(4)
    clock.advance(0.5)
    assert bucket.available() == pytest.approx(1.0)
    clock.advance(60)
    assert bucket.available() == pytest.approx(4.0)


def test_wait_time_reports_seconds_until_tokens_are_available():
    clock = FakeClock()
    bucket = TokenBucket(2, 0.5, clock=clock)
    bucket.try_acquire(2)
    assert bucket.wait_time(1) == pytest.approx(2.0)
    clock.advance(2.0)
    assert bucket.wait_time(1) == 0.0
    assert bucket.try_acquire(1)


def test_failed_acquire_takes_nothing():
    clock = FakeClock()
    bucket = TokenBucket(5, 1, clock=clock)
    bucket.try_acquire(4)
    assert not bucket.try_acquire(2)
    assert bucket.available() == pytest.approx(1.0)


def test_clock_stepping_backwards_does_not_remove_or_invent_tokens():
    clock = FakeClock(50.0)
    bucket = TokenBucket(10, 1, clock=clock)
    bucket.try_acquire(10)
    clock.advance(-30)
    assert bucket.available() == pytest.approx(0.0)
    clock.advance(3)
    assert bucket.available() == pytest.approx(3.0)


def test_keyed_limiter_isolates_keys_and_bounds_memory():
    clock = FakeClock()
    limiter = KeyedRateLimiter(1, 1, clock=clock, max_keys=2)
    assert limiter.allow("alice")
    assert not limiter.allow("alice")
    assert limiter.allow("bob")
    assert limiter.retry_after("alice") == pytest.approx(1.0)
    assert limiter.allow("carol")
    assert len(limiter) == 2
    # retry_after touched alice, so bob was least recently used and evicted:
    # bob starts again with a full bucket, while carol's bucket is kept and empty.
    assert limiter.allow("bob")
    assert not limiter.allow("carol")


def test_invalid_bucket_parameters_are_rejected():
    with pytest.raises(ValueError):
        TokenBucket(0, 1)
    with pytest.raises(ValueError):
        TokenBucket(5, -1)
    with pytest.raises(TypeError):
        TokenBucket("5", 1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        TokenBucket(5, 1, clock=123)  # type: ignore[arg-type]


def test_invalid_requests_are_rejected():
    bucket = TokenBucket(3, 1, clock=FakeClock())
    with pytest.raises(ValueError):
        bucket.try_acquire(0)
    with pytest.raises(ValueError):
        bucket.try_acquire(4)
    with pytest.raises(ValueError):
        bucket.wait_time(-1)


def test_keyed_limiter_validates_arguments():
    with pytest.raises(ValueError):
        KeyedRateLimiter(1, 1, max_keys=0)
    limiter = KeyedRateLimiter(1, 1, clock=FakeClock())
    with pytest.raises(TypeError):
        limiter.allow({"unhashable": True})
