"""Several instances, one mailbox: only the lease holder polls, and a dead holder is replaced."""

from __future__ import annotations

import datetime as dt
import time

from sqlalchemy import update

from hermes_groupware.db.session import Actor, Database
from hermes_groupware.models import Lease
from hermes_groupware.models.enums import Source
from hermes_groupware.services import leases
from hermes_groupware.services.leases import DatabaseLease
from mail_gateway.imap_poller import ImapPoller, ImapSettings
from tests.mail_gateway.dovecot import Dovecot, MailUser
from tests.mail_gateway.test_imap_poller import Intake, message, running, wait_for

SECONDS = 3.0  # the lease; renewed every second


def poller(database: Database, settings: ImapSettings) -> tuple[ImapPoller, Intake]:
    intake = Intake()
    lease = DatabaseLease(database, leases.IMAP_PREFIX + settings.mailbox_id, SECONDS)
    return ImapPoller(settings, intake, lease=lease), intake


def holder(database: Database, settings: ImapSettings) -> str | None:
    with database.unit_of_work(Actor.system("test"), Source.SYSTEM, read_only=True) as uow:
        name = leases.IMAP_PREFIX + settings.mailbox_id
        return leases.current_holder(uow.session, name, now=uow.now())


def test_two_instances_one_mailbox_only_the_holder_polls_then_the_other_takes_over(
    fresh_database: Database, dovecot: Dovecot, imap_user: MailUser, imap_settings: ImapSettings
) -> None:
    for n in range(4):
        dovecot.append(imap_user, message(f"first {n}"))
    one, one_intake = poller(fresh_database, imap_settings)
    two, two_intake = poller(fresh_database, imap_settings)
    with running(two), running(one):
        wait_for(lambda: len(one_intake.deliveries) + len(two_intake.deliveries) == 4)
        dovecot.append(imap_user, message("second"))
        wait_for(lambda: len(one_intake.deliveries) + len(two_intake.deliveries) == 5)
        time.sleep(SECONDS)  # a whole lease time: the other instance must still not poll
        intakes = {one: one_intake, two: two_intake}
        active = next(p for p, intake in intakes.items() if intake.deliveries)
        standby = two if active is one else one
        assert len(intakes[active].deliveries) == 5
        assert intakes[standby].attempts == []

        active.stop()  # a clean stop releases the lease: the other takes over at once
        wait_for(lambda: holder(fresh_database, imap_settings) is not None, timeout=5)
        dovecot.append(imap_user, message("third"))
        wait_for(lambda: intakes[standby].subjects == ["third"], timeout=5)
    assert len(intakes[active].deliveries) == 5
    assert dovecot.uids(imap_user) == []
    with fresh_database.unit_of_work(Actor.system("test"), Source.SYSTEM, read_only=True) as uow:
        polled = leases.last_successes(uow.session, leases.IMAP_PREFIX)
    assert set(polled) == {imap_settings.mailbox_id}


def test_a_dead_holder_is_taken_over_once_its_lease_expires(
    fresh_database: Database, dovecot: Dovecot, imap_user: MailUser, imap_settings: ImapSettings
) -> None:
    """The holder's process died (it never renews nor releases): nothing is polled until the
    lease runs out, then the standing-by instance polls."""
    name = leases.IMAP_PREFIX + imap_settings.mailbox_id
    with fresh_database.unit_of_work(Actor.system("test"), Source.SYSTEM) as uow:
        assert leases.hold(uow.session, name, "dead-host:4242:x", now=uow.now(), seconds=SECONDS)
    expires = time.monotonic() + SECONDS
    dovecot.append(imap_user, message("waiting"))
    survivor, intake = poller(fresh_database, imap_settings)
    with running(survivor):
        wait_for(lambda: intake.subjects == ["waiting"], timeout=SECONDS + 5)
        assert time.monotonic() >= expires - 0.2  # not before the dead holder's lease ended
        assert holder(fresh_database, imap_settings) != "dead-host:4242:x"
    assert holder(fresh_database, imap_settings) is None  # released when stopped


def test_a_poller_that_lost_its_lease_stops_polling_until_it_gets_it_back(
    fresh_database: Database, dovecot: Dovecot, imap_user: MailUser, imap_settings: ImapSettings
) -> None:
    """E.g. it hung longer than the lease and another instance took over meanwhile."""
    name = leases.IMAP_PREFIX + imap_settings.mailbox_id
    survivor, intake = poller(fresh_database, imap_settings)
    with running(survivor):
        wait_for(lambda: holder(fresh_database, imap_settings) is not None)
        with fresh_database.unit_of_work(Actor.system("test"), Source.SYSTEM) as uow:
            taken = uow.now() + dt.timedelta(seconds=60)
            uow.session.execute(
                update(Lease).where(Lease.name == name).values(holder="other:1:y", expires_at=taken)
            )
        time.sleep(SECONDS / 3 + 0.5)  # the poller's next renewal fails
        dovecot.append(imap_user, message("while the other holds it"))
        time.sleep(1.5)
        assert intake.attempts == []
        with fresh_database.unit_of_work(Actor.system("test"), Source.SYSTEM) as uow:
            leases.release(uow.session, name, "other:1:y", now=uow.now())
        wait_for(lambda: intake.subjects == ["while the other holds it"], timeout=5)
