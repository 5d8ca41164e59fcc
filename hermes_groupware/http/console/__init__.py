"""The web console under ``/console/`` (issue 9): server-rendered pages for employees (connect
a calendar, app passwords, feeds) and administrators (feeds, report schedules, quarantine,
outbox). Thin like every adapter: parse the form, call one service, render."""
