"""Confirming a lost authorization before anyone is told.

Telling a person that Connector "needs to be re-authorized" when it does not is the worst thing
the agent can do: it asks for something impossible (a new link for a connection that is still
Linked) and stops syncing. So a refusal is checked once more before it is believed: after a
short wait (another process may have just renewed the credential, or linked the connection
anew), the cloud is asked for the connection's status through the connection's
:class:`~agent.cloud_api.tokens.TokenKeeper`, which reads the credential store again and renews the
access token if it must. Only a second refusal with a reason that says the authorization is gone
confirms the loss; an answer means the credential works; no answer (the cloud cannot be reached)
confirms nothing.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable

from agent.cloud_api.cloud_client import CloudClient
from agent.errors import AuthorizationLost

log = logging.getLogger(__name__)

# Long enough for another process's renewal (a keyring round trip and one call) to land.
CONFIRM_SECONDS = 2.0


def confirm_wait(alarms: int = 1, random_fraction: Callable[[], float] = random.random) -> float:
    """How long to wait before confirming the ``alarms``-th refusal in a row: a couple of
    seconds, doubling when refusals that proved false keep coming, jittered."""
    return CONFIRM_SECONDS * 2.0 ** min(alarms - 1, 6) * (0.5 + 0.5 * random_fraction())


def confirmed_loss(
    client: CloudClient,
    lost: AuthorizationLost,
    *,
    wait: Callable[[float], object],
    seconds: float | None = None,
    who: str = "",
) -> AuthorizationLost | None:
    """The loss confirmed (the cloud's second refusal), or None when the credential works
    after all. Raises :class:`~agent.errors.CloudUnavailable` when the cloud cannot be asked:
    then nothing is confirmed, and the caller backs off as for any network failure."""
    log.warning(
        "%sthe cloud refused the credential (%s: %s); checking again before saying so",
        f"{who}: " if who else "",
        lost.reason or "no reason",
        lost.message,
    )
    wait(confirm_wait() if seconds is None else seconds)
    try:
        answer = client.status()
    except AuthorizationLost as again:
        return again
    log.warning(
        "%sthe credential works after all (the cloud says the connection is %s); carrying on",
        f"{who}: " if who else "",
        answer.connection.status,
    )
    return None
