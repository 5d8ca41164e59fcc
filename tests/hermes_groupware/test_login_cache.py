"""The cache of verified Basic logins: hits, expiry, passwords never stored, forgetting,
and the cheap re-check of a pair verified earlier."""

from __future__ import annotations

from freezegun import freeze_time

from hermes_groupware.login_cache import LoginCache


def test_a_verified_pair_is_known_until_it_expires() -> None:
    cache = LoginCache()
    cache.remember("jkowalski", "sekret-1", 60)
    cache.remember("anowak", "sekret-2", -1)  # already over
    assert cache.knows("jkowalski", "sekret-1")
    assert not cache.knows("jkowalski", "sekret-2")
    assert not cache.knows("jkowalsk", "isekret-1")  # the separator keeps pairs apart
    assert not cache.knows("anowak", "sekret-2")
    assert "sekret-1" not in repr(vars(cache))


def test_forget_drops_only_that_login() -> None:
    cache = LoginCache()
    cache.remember("jkowalski", "telefon", 60)
    cache.remember("jkowalski", "laptop", 60)
    cache.remember("anowak", "telefon", 60)
    cache.forget("jkowalski")
    assert not cache.knows("jkowalski", "telefon")
    assert not cache.knows("jkowalski", "laptop")
    assert cache.knows("anowak", "telefon")


def test_a_stale_pair_is_rechecked_by_its_password_id_then_fresh_again() -> None:
    cache = LoginCache()
    asked: list[int] = []

    def in_force(password_id: int) -> str | None:
        asked.append(password_id)
        return "jkowalski"

    with freeze_time("2026-11-27 08:00:00") as clock:
        cache.remember("jkowalski", "telefon", 60, password_id=7, keep_seconds=3600)
        assert cache.recheck("jkowalski", "telefon", in_force, 60) == "jkowalski"  # even fresh
        clock.tick(61)
        assert not cache.knows("jkowalski", "telefon")
        assert cache.recheck("jkowalski", "telefon", in_force, 60) == "jkowalski"
        assert asked == [7, 7]
        assert cache.knows("jkowalski", "telefon")  # renewed for another minute
        clock.tick(3600)  # past the keep time: nothing to re-check, verify in full
        assert cache.recheck("jkowalski", "telefon", in_force, 60) is None
        assert asked == [7, 7]


def test_a_pair_no_longer_in_force_is_forgotten() -> None:
    cache = LoginCache()
    with freeze_time("2026-11-27 08:00:00") as clock:
        cache.remember("jkowalski", "telefon", 60, password_id=7, keep_seconds=3600)
        cache.remember("jkowalski", "laptop", 60)  # no password id: never re-checked
        clock.tick(61)
        assert cache.recheck("jkowalski", "telefon", lambda _id: None, 60) is None
        assert cache.recheck("jkowalski", "telefon", lambda _id: "again", 60) is None  # gone
        assert cache.recheck("jkowalski", "laptop", lambda _id: "never asked", 60) is None


def test_renewal_never_outlives_the_keep_time() -> None:
    cache = LoginCache()
    with freeze_time("2026-11-27 08:00:00") as clock:
        cache.remember("jkowalski", "telefon", 60, password_id=7, keep_seconds=90)
        clock.tick(61)
        assert cache.recheck("jkowalski", "telefon", lambda _id: "ok", 60) == "ok"
        clock.tick(30)  # 91 s after the full check: neither fresh nor kept
        assert not cache.knows("jkowalski", "telefon")
        assert cache.recheck("jkowalski", "telefon", lambda _id: "ok", 60) is None
