"""The embedded broker (kombu's SQLAlchemy transport on a SQLite file), safe when processes start together.

kombu creates a queue's row on first use under a lock that only serialises the threads of one process.
`make run` starts the worker and beat at once; both may insert the same queue's row, and the loser's
IntegrityError stopped the worker ("Unrecoverable error"), which stopped the whole `make run`. Here the
loser reads the row the other process has just created. kombu's own fix (celery/kombu#1187) is the
in-process lock, so the race between processes is left to its users.
"""

from kombu.transport import TRANSPORT_ALIASES
from kombu.transport import sqlalchemy as kombu_sqlalchemy
from sqlalchemy.exc import IntegrityError


class Channel(kombu_sqlalchemy.Channel):
    def _get_or_create(self, queue):
        try:
            return super()._get_or_create(queue)
        except IntegrityError:  # another process inserted it between our look and our insert
            self.session.rollback()
            return self.session.query(self.queue_cls).filter(self.queue_cls.name == queue).one()


class Transport(kombu_sqlalchemy.Transport):
    Channel = Channel


def install() -> None:
    """Make broker URLs `sqla+...` and `sqlalchemy+...` use this transport (before any connection is made)."""
    for alias in ("sqla", "sqlalchemy"):
        TRANSPORT_ALIASES[alias] = f"{__name__}:Transport"
