"""Behind a trusted reverse proxy, login back-off counts the client's address, not the proxy's."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from hermes_groupware.services.directory import set_app_password
from tests.caldav_backend.conftest import Server, start_server
from tests.caldav_backend.test_access import PROPFIND_ZERO, _status


@pytest.fixture(scope="module")
def proxied(dav_server: Server) -> Iterator[Server]:
    """The demo server's database behind a proxy on 127.0.0.1; one failure locks a login and
    four an address."""
    settings = dataclasses.replace(
        dav_server.settings,
        http=dataclasses.replace(dav_server.settings.http, trusted_proxies=("127.0.0.1",)),
        caldav=dataclasses.replace(dav_server.settings.caldav, lockout_failures=1),
    )
    base, server = start_server(settings)
    yield dataclasses.replace(dav_server, url=base, settings=settings, clients=[])
    server.stop()


def _login(server: Server, login: str, password: str, client: str) -> int:
    headers = {**PROPFIND_ZERO, "X-Forwarded-For": client}
    return _status(server, login, "PROPFIND", f"/{login}/", headers=headers, password=password)


def test_an_address_that_guesses_is_locked_and_its_neighbours_are_not(proxied: Server) -> None:
    with proxied.uow() as uow:
        first = set_app_password(uow, "kwojcik", label="proxy-test-1")
        second = set_app_password(uow, "kwojcik", label="proxy-test-2")
    guesser, colleague = "198.51.100.7", "198.51.100.8"
    for n in range(4):  # other logins each time: only the address counter fills up
        assert _login(proxied, f"nobody{n}", "wrong-password-123", guesser) == 401
    assert _login(proxied, "kwojcik", first, guesser) == 401  # locked, even the right password
    assert _login(proxied, "kwojcik", second, colleague) == 207  # the proxy is not locked
