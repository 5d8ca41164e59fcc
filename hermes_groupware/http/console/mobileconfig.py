"""An Apple configuration profile that sets up the CalDAV account in one tap (iOS, macOS).

The payload is ``com.apple.caldav.account`` as Apple's Configuration Profile Reference
describes it; the host, port and TLS come from the address the browser used, so the phone
reaches the server the same way.
"""

from __future__ import annotations

import plistlib
import uuid
from dataclasses import dataclass

CONTENT_TYPE = "application/x-apple-aspen-config"


@dataclass(frozen=True)
class Account:
    """What the profile configures."""

    host: str
    port: int
    ssl: bool
    login: str
    password: str
    description: str


def profile(account: Account, *, identifier: str = "pl.hermes.groupware") -> bytes:
    """The profile as an XML plist (unsigned; iOS shows it as "not verified", which works)."""
    caldav = {
        "PayloadType": "com.apple.caldav.account",
        "PayloadVersion": 1,
        "PayloadIdentifier": f"{identifier}.caldav.{account.login}",
        "PayloadUUID": str(uuid.uuid4()).upper(),
        "PayloadDisplayName": account.description,
        "CalDAVAccountDescription": account.description,
        "CalDAVHostName": account.host,
        "CalDAVPort": account.port,
        "CalDAVUseSSL": account.ssl,
        "CalDAVUsername": account.login,
        "CalDAVPassword": account.password,
        "CalDAVPrincipalURL": f"/{account.login}/",
    }
    root = {
        "PayloadType": "Configuration",
        "PayloadVersion": 1,
        "PayloadIdentifier": f"{identifier}.{account.login}",
        "PayloadUUID": str(uuid.uuid4()).upper(),
        "PayloadDisplayName": account.description,
        "PayloadRemovalDisallowed": False,
        "PayloadContent": [caldav],
    }
    return plistlib.dumps(root, fmt=plistlib.FMT_XML)
