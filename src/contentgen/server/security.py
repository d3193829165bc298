"""Bearer tokens (PyJWT, HS256): what a token says, how it is checked, how one is made.

A token's claims: ``sub`` (who it is for), ``clients`` (a list of client UUIDs, or ``"*"`` for
every client), ``admin`` (may change clients' setup), ``iat`` and ``exp``. The server answers a
missing, malformed, wrongly signed or expired token with 401, the reason in the body and
``WWW-Authenticate: Bearer``. The secret (``CONTENTGEN_JWT_SECRET``, at least 32 bytes) never
appears in a log line or a response.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from contentgen.errors import ConfigurationError, InvalidInput

ALGORITHM = "HS256"
MIN_SECRET_BYTES = 32
ALL = "*"
_TTL = re.compile(r"^\s*(\d+)\s*([smhdw]?)\s*$")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


@dataclass(frozen=True)
class Principal:
    """Who is calling: the clients it may use (None: all) and whether it is an admin."""

    subject: str
    clients: frozenset[uuid.UUID] | None
    admin: bool
    expires: float | None = None


#: The caller when the server runs with ``--no-auth`` (loopback only).
ANONYMOUS_ADMIN = Principal("no-auth", None, True)


class TokenRejected(Exception):
    """A token the server does not accept; ``reason`` is a short code for clients."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def check_secret(secret: str) -> bytes:
    key = secret.encode()
    if len(key) < MIN_SECRET_BYTES:
        raise ConfigurationError(
            f"CONTENTGEN_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes (HS256 keys "
            "shorter than the hash are guessable); make one with "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
        )
    return key


def parse_ttl(text: str) -> int:
    """Seconds from ``30d``, ``12h``, ``15m``, ``3600`` or ``90s``."""
    match = _TTL.match(text)
    if match is None or int(match.group(1)) <= 0:
        raise InvalidInput(
            f"ttl: {text!r} is not a duration like 30d, 12h, 15m or 3600s", field="ttl"
        )
    return int(match.group(1)) * _UNIT[match.group(2)]


def create_token(
    secret: str,
    *,
    clients: Iterable[uuid.UUID] | None,
    admin: bool = False,
    ttl_seconds: int = 30 * 86400,
    subject: str = "contentgen",
    now: float | None = None,
) -> str:
    """A signed token for ``clients`` (None: every client)."""
    import jwt

    issued = int(time.time() if now is None else now)
    claims = {
        "sub": subject,
        "clients": ALL if clients is None else sorted(str(c) for c in clients),
        "admin": bool(admin),
        "iat": issued,
        "exp": issued + ttl_seconds,
    }
    return jwt.encode(claims, check_secret(secret), algorithm=ALGORITHM)


class TokenVerifier:
    """Checks bearer tokens; remembers the last few good ones (until they expire) so a client
    polling with one token pays for the signature check once."""

    def __init__(self, secret: str, *, remember: int = 1024) -> None:
        self._key = check_secret(secret)
        self._remember = remember
        self._good: dict[str, Principal] = {}

    def verify(self, header: str | None) -> Principal:
        """The principal of an ``Authorization`` header value; ``TokenRejected`` if none."""
        if not header:
            raise TokenRejected("missing", "Missing bearer token")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise TokenRejected("malformed", "Malformed authorization header: expected "
                                "'Bearer TOKEN'")  # fmt: skip
        known = self._good.get(token)
        if known is not None:
            if known.expires is not None and known.expires <= time.time():
                self._good.pop(token, None)
                raise TokenRejected("expired", "Token expired")
            return known
        principal = self._decode(token)
        if len(self._good) >= self._remember:
            self._good.pop(next(iter(self._good)))
        self._good[token] = principal
        return principal

    def _decode(self, token: str) -> Principal:
        import jwt

        try:
            claims = jwt.decode(token, self._key, algorithms=[ALGORITHM],
                                options={"require": ["exp", "iat"]})  # fmt: skip
        except jwt.ExpiredSignatureError:
            raise TokenRejected("expired", "Token expired") from None
        except jwt.InvalidSignatureError:
            raise TokenRejected("bad_signature", "Invalid token signature") from None
        except jwt.MissingRequiredClaimError as exc:
            raise TokenRejected("invalid_claims", f"Invalid token: {exc}") from None
        except jwt.InvalidTokenError:
            raise TokenRejected("malformed", "Malformed token") from None
        return _principal(claims)


_BAD_CLIENTS = "Invalid token: 'clients' must be a list of client UUIDs or '*'"


def _principal(claims: dict[str, object]) -> Principal:
    raw, admin = claims.get("clients"), claims.get("admin", False)
    if not isinstance(admin, bool):
        raise TokenRejected("invalid_claims", "Invalid token: 'admin' must be true or false")
    clients: frozenset[uuid.UUID] | None
    if raw == ALL:
        clients = None
    elif isinstance(raw, list) and all(isinstance(c, str) for c in raw):
        try:
            clients = frozenset(uuid.UUID(str(c)) for c in raw)
        except ValueError:
            raise TokenRejected("invalid_claims", _BAD_CLIENTS) from None
    else:
        raise TokenRejected("invalid_claims", _BAD_CLIENTS)
    exp = claims.get("exp")
    return Principal(str(claims.get("sub", "")), clients, admin,
                     float(exp) if isinstance(exp, int | float) else None)  # fmt: skip
