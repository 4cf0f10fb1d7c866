"""Accounts, browser sessions and API keys, in the server's own tables.

Passwords are hashed with argon2id (``argon2-cffi``). A session cookie and an
API key are random 256-bit tokens; only their SHA-256 is stored, so a copy
of the database does not let anyone log in. ``qwenapp users`` and the HTTP
login both go through :class:`UserStore`.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ..errors import InputError
from ..store import new_id, transaction
from ..store.connection import Connection
from ..store.db import db_path_of, storage_errors

__all__ = [
    "LOCAL_USER",
    "MIN_PASSWORD",
    "ApiKey",
    "NewKey",
    "Session",
    "User",
    "UserStore",
    "hash_token",
]

MIN_PASSWORD = 8
KEY_PREFIX = "qwk_"
LOCAL_USER_ID = "local"  # never a ULID, so never a real account's id


@dataclass(frozen=True, slots=True)
class User:
    id: str
    username: str
    is_admin: bool
    created_at: str = ""

    @property
    def is_local(self) -> bool:
        return self.id == LOCAL_USER_ID


LOCAL_USER = User(LOCAL_USER_ID, "local", True)
"""The one user of a loopback server that has no accounts."""


@dataclass(frozen=True, slots=True)
class Session:
    user: User
    csrf_token: str
    expires_at: str


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    name: str
    prefix: str
    created_at: str
    last_used_at: str | None


@dataclass(frozen=True, slots=True)
class NewKey:
    key: ApiKey
    secret: str  # shown once; only its hash is kept


def _now() -> datetime:
    return datetime.now(UTC)


def _ts(t: datetime) -> str:
    return t.isoformat(timespec="seconds")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _check_username(name: str) -> str:
    name = name.strip()
    if not (1 <= len(name) <= 64) or not all(c.isalnum() or c in "._-@" for c in name):
        raise InputError(f"invalid user name {name!r}",
                         "use 1-64 letters, digits, '.', '_', '-' or '@'")
    if name.lower() == LOCAL_USER_ID:
        raise InputError("the user name 'local' is reserved", "choose another name")
    return name


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InputError(f"the password is too short (at least {MIN_PASSWORD} characters)")
    if len(password) > 1024:
        raise InputError("the password is too long (at most 1024 characters)")


class UserStore:
    """Accounts on an open database (see :func:`qwenapp.store.open_db`)."""

    def __init__(self, conn: Connection, hasher: PasswordHasher | None = None) -> None:
        self.conn = conn
        self.hasher = hasher or PasswordHasher()
        self._path = db_path_of(conn)
        self._dummy: str | None = None

    # -- accounts -------------------------------------------------------------------------

    def count(self) -> int:
        with storage_errors(self._path):
            return int(self.conn.execute("SELECT count(*) FROM server_users").fetchone()[0])

    def add(self, username: str, password: str, *, admin: bool = False) -> User:
        name = _check_username(username)
        _check_password(password)
        digest = self.hasher.hash(password)
        now = _ts(_now())
        user = User(new_id(), name, admin, now)
        with transaction(self.conn) as c:
            if c.execute("SELECT 1 FROM server_users WHERE username = ?", (name,)).fetchone():
                raise InputError(f"the user {name!r} already exists",
                                 "choose another name, or `qwenapp users set-password`")
            c.execute("INSERT INTO server_users (id, username, password_hash, is_admin, "
                      "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                      (user.id, name, digest, int(admin), now, now))
        return user

    def all(self) -> list[User]:
        with storage_errors(self._path):
            rows = self.conn.execute("SELECT id, username, is_admin, created_at FROM "
                                     "server_users ORDER BY username").fetchall()
        return [User(r[0], r[1], bool(r[2]), r[3]) for r in rows]

    def get(self, username: str) -> User:
        with storage_errors(self._path):
            r = self.conn.execute("SELECT id, username, is_admin, created_at FROM server_users "
                                  "WHERE username = ?", (username.strip(),)).fetchone()
        if r is None:
            raise InputError(f"no user {username!r}", "see `qwenapp users list`")
        return User(r[0], r[1], bool(r[2]), r[3])

    def by_id(self, user_id: str) -> User | None:
        with storage_errors(self._path):
            r = self.conn.execute("SELECT id, username, is_admin, created_at FROM server_users "
                                  "WHERE id = ?", (user_id,)).fetchone()
        return None if r is None else User(r[0], r[1], bool(r[2]), r[3])

    def remove(self, username: str) -> User:
        """Delete the account, its sessions and keys (its data: see :func:`purge_owned`)."""
        user = self.get(username)
        with transaction(self.conn) as c:
            c.execute("DELETE FROM server_users WHERE id = ?", (user.id,))
        return user

    def set_password(self, username: str, password: str) -> User:
        """Change the password and end every session of the user."""
        user = self.get(username)
        _check_password(password)
        digest = self.hasher.hash(password)
        with transaction(self.conn) as c:
            c.execute("UPDATE server_users SET password_hash = ?, updated_at = ? WHERE id = ?",
                      (digest, _ts(_now()), user.id))
            c.execute("DELETE FROM server_sessions WHERE user_id = ?", (user.id,))
        return user

    def credentials(self, username: str) -> tuple[User, str] | None:
        """The user and their password hash (read on the connection's thread)."""
        with storage_errors(self._path):
            r = self.conn.execute("SELECT id, username, is_admin, created_at, password_hash "
                                  "FROM server_users WHERE username = ?",
                                  (username.strip(),)).fetchone()
        return None if r is None else (User(r[0], r[1], bool(r[2]), r[3]), r[4])

    def check(self, digest: str | None, password: str) -> bool:
        """Whether ``password`` matches ``digest``; CPU only, safe on any thread.

        With no digest (no such user) a dummy hash is checked, so a wrong name
        costs as much time as a wrong password and names cannot be probed.
        """
        if digest is None:
            if self._dummy is None:
                self._dummy = self.hasher.hash(secrets.token_hex(8))
            digest, password = self._dummy, password + "\x00"
            with contextlib.suppress(VerificationError, InvalidHashError):
                self.hasher.verify(digest, password)
            return False
        try:
            return self.hasher.verify(digest, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def verify(self, username: str, password: str) -> User | None:
        """The user if the password is right; ``None`` otherwise (same cost either way)."""
        found = self.credentials(username)
        if not self.check(found[1] if found else None, password) or found is None:
            return None
        return found[0]

    # -- sessions -------------------------------------------------------------------------

    def create_session(self, user: User, days: int) -> tuple[str, Session]:
        """A new session: (cookie token, session). Expired sessions are swept here."""
        token = secrets.token_urlsafe(32)
        now = _now()
        session = Session(user, secrets.token_urlsafe(32), _ts(now + timedelta(days=days)))
        with transaction(self.conn) as c:
            c.execute("DELETE FROM server_sessions WHERE expires_at < ?", (_ts(now),))
            c.execute("INSERT INTO server_sessions (token_hash, user_id, csrf_token, created_at,"
                      " expires_at) VALUES (?, ?, ?, ?, ?)",
                      (hash_token(token), user.id, session.csrf_token, _ts(now),
                       session.expires_at))
        return token, session

    def session(self, token: str) -> Session | None:
        with storage_errors(self._path):
            r = self.conn.execute(
                "SELECT u.id, u.username, u.is_admin, u.created_at, s.csrf_token, s.expires_at "
                "FROM server_sessions s JOIN server_users u ON u.id = s.user_id "
                "WHERE s.token_hash = ?", (hash_token(token),)).fetchone()
        if r is None or r[5] < _ts(_now()):
            return None
        return Session(User(r[0], r[1], bool(r[2]), r[3]), r[4], r[5])

    def end_session(self, token: str) -> None:
        with transaction(self.conn) as c:
            c.execute("DELETE FROM server_sessions WHERE token_hash = ?", (hash_token(token),))

    # -- API keys -------------------------------------------------------------------------

    def add_key(self, user: User, name: str) -> NewKey:
        name = " ".join(name.split())[:80] or "key"
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        key = ApiKey(new_id(), name, secret[:len(KEY_PREFIX) + 6], _ts(_now()), None)
        with transaction(self.conn) as c:
            c.execute("INSERT INTO server_api_keys (id, user_id, name, key_hash, prefix, "
                      "created_at) VALUES (?, ?, ?, ?, ?, ?)",
                      (key.id, user.id, key.name, hash_token(secret), key.prefix,
                       key.created_at))
        return NewKey(key, secret)

    def keys(self, user: User) -> list[ApiKey]:
        with storage_errors(self._path):
            rows = self.conn.execute(
                "SELECT id, name, prefix, created_at, last_used_at FROM server_api_keys "
                "WHERE user_id = ? ORDER BY id", (user.id,)).fetchall()
        return [ApiKey(*r) for r in rows]

    def revoke_key(self, user: User, key_id: str) -> bool:
        with transaction(self.conn) as c:
            cur = c.execute("DELETE FROM server_api_keys WHERE id = ? AND user_id = ?",
                            (key_id, user.id))
            return cur.rowcount > 0

    def key_user(self, secret: str) -> User | None:
        if not secret.startswith(KEY_PREFIX):
            return None
        digest = hash_token(secret)
        with storage_errors(self._path):
            r = self.conn.execute(
                "SELECT u.id, u.username, u.is_admin, u.created_at, k.key_hash, k.id, "
                "k.last_used_at "
                "FROM server_api_keys k JOIN server_users u ON u.id = k.user_id "
                "WHERE k.key_hash = ?", (digest,)).fetchone()
        if r is None or not hmac.compare_digest(r[4], digest):
            return None
        now = _now()
        if r[6] is None or r[6] < _ts(now - timedelta(minutes=1)):  # not a write per request
            with transaction(self.conn) as c:
                c.execute("UPDATE server_api_keys SET last_used_at = ? WHERE id = ?",
                          (_ts(now), r[5]))
        return User(r[0], r[1], bool(r[2]), r[3])
