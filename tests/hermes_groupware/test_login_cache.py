"""The cache of verified Basic logins: hits, expiry, passwords never stored, forgetting."""

from __future__ import annotations

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
