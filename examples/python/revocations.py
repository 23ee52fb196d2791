"""Follows a fastify-jwt-session issuer's revocation feed (GET /@revocations), as its README's
"Revocation feed" section documents it for other languages: requests streams the Server-Sent
Events, PyJWT verifies each Security Event Token, and the copy answers whether a token's
session was revoked. Until the first complete snapshot and the heartbeat after it, after a
reconnection until the next heartbeat, and when no verified event came for max_staleness
seconds, the copy is not current: the service answers 503."""
import logging
import threading
import time

import jwt
import requests

EVENT = "urn:fastify-jwt-session:event:"
SESSION_REVOKED = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"
RENEWED, SUBJECT, SNAPSHOT, HEARTBEAT = (EVENT + name for name in ("session-renewed", "subject-revoked", "snapshot", "heartbeat"))
JTI_MEMORY = 120  # seconds: an older SET is refused, so a replayed one is always caught
log = logging.getLogger("revocations")


class NotCurrent(Exception):
    """The copy cannot vouch for itself: answer 503."""


class Revocations:
    def __init__(self, url, headers, key_for, algorithms, issuer, max_staleness=5.0, leeway=5):
        self.url, self.headers, self.key_for, self.algorithms, self.issuer = url, headers, key_for, algorithms, issuer
        self.max_staleness, self.leeway = max_staleness, leeway
        self.sessions, self.subjects = {}, {}  # sid: (generation, renewed_at_us, ended, expires_at); sub: (cutoff_us, expires_at)
        self.staging, self.complete, self.caught_up, self.last_word = None, False, False, float("-inf")
        self.seen, self.cursor, self.lock, self.pruned = {}, None, threading.Lock(), 0

    def current(self):
        return self.complete and self.caught_up and time.monotonic() - self.last_word <= self.max_staleness

    def verify(self, token):
        """The SET's claims once its signature, typ, iss, iat and jti are checked; raises otherwise."""
        if jwt.get_unverified_header(token).get("typ") != "secevent+jwt":
            raise ValueError("typ is not secevent+jwt")
        claims = jwt.decode(token, self.key_for(token), algorithms=self.algorithms, issuer=self.issuer,
                            options={"require": ["iss", "iat", "jti"], "verify_aud": False})
        now = time.time()
        if not now - JTI_MEMORY <= claims["iat"] <= now + self.leeway or len(claims["events"]) != 1:
            raise ValueError("iat out of bounds, or not exactly one event")
        if HEARTBEAT in claims["events"] and claims["iat"] < now - self.max_staleness - self.leeway:
            raise ValueError("a heartbeat older than max_staleness")
        while self.seen and next(iter(self.seen.values())) < now - JTI_MEMORY:  # oldest first
            del self.seen[next(iter(self.seen))]
        if claims["jti"] in self.seen:
            raise ValueError("a jti seen before (a replay)")
        self.seen[claims["jti"]] = claims["iat"]
        return claims

    def apply(self, claims, event_id):
        [(kind, body)] = claims["events"].items()
        name = claims.get("sub_id", {}).get("id")
        if kind == SNAPSHOT:  # chunks build a new copy; the last one replaces the old copy
            sessions, subjects = self.staging or ({}, {})
            sessions.update((sid, (gen, at, end == 1, exp)) for sid, gen, at, end, exp in body["sessions"])
            subjects.update((sub, (cutoff, exp)) for sub, cutoff, exp in body["subjects"])
            self.staging = None if body["last"] else (sessions, subjects)
            if body["last"]:
                self.sessions, self.subjects, self.complete = sessions, subjects, True
        elif kind == SESSION_REVOKED:
            self.sessions[name] = (0, 0, True, body["expires_at"])
        elif kind == RENEWED:
            self.sessions[name] = (body["generation"], body["renewed_at_us"], False, body["expires_at"])
        elif kind == SUBJECT:
            cutoff = max(body["cutoff_us"], self.subjects.get(name, (0, 0))[0])
            self.subjects[name] = (cutoff, max(body["expires_at"], self.subjects.get(name, (0, 0))[1]))
        elif kind == HEARTBEAT:
            self.caught_up = True  # the issuer has sent everything up to now
            self.prune()
        else:
            raise ValueError("an unknown event type")
        self.last_word = time.monotonic()
        self.cursor = event_id or self.cursor  # only changes and a snapshot's last chunk carry an id

    def prune(self):
        """Drops, once a minute, the entries past their expires_at: no token they concern is valid any more."""
        now = time.time()
        if now - self.pruned >= 60:
            self.pruned = now
            self.sessions = {sid: entry for sid, entry in self.sessions.items() if entry[3] >= now}
            self.subjects = {sub: entry for sub, entry in self.subjects.items() if entry[1] >= now}

    def handle(self, token, event_id):
        """Applies one event; answers False when it failed a check (it changed nothing, and is no word from the issuer)."""
        try:
            claims = self.verify(token)
            with self.lock:
                self.apply(claims, event_id)
            return True
        except Exception as error:
            log.warning("refused an event of the revocation feed: %s", type(error).__name__)
            return False

    def connect(self):
        headers = dict(self.headers, accept="text/event-stream", **({"last-event-id": self.cursor} if self.cursor else {}))
        started = time.monotonic()
        with requests.get(self.url, headers=headers, stream=True, timeout=(5, self.max_staleness), allow_redirects=False) as response:
            if response.status_code != 200:
                return log.warning("the revocation feed answered %s", response.status_code)
            response.encoding = "utf-8"
            event_id, data = None, []
            for line in response.iter_lines(decode_unicode=True):
                if time.monotonic() - max(started, self.last_word) > self.max_staleness:
                    return log.warning("no verified event for max_staleness: reconnecting")
                if line == "":  # the blank line ends an event
                    if data and not self.handle("\n".join(data), event_id):
                        # Reconnect from the last cursor applied: a change refused here (a chunk too old,
                        # clocks apart) is sent again, newly signed, rather than lost; a snapshot restarts.
                        return
                    event_id, data = None, []
                elif not line.startswith(":"):
                    field, _, value = line.partition(":")
                    value = value[1:] if value.startswith(" ") else value
                    if field == "data":
                        data.append(value)
                    elif field == "id":
                        event_id = value

    def run(self):
        delay = 0.05
        while True:
            heard = self.last_word
            try:
                self.connect()
            except Exception as error:
                log.warning("the revocation feed's connection failed: %s", type(error).__name__)
            with self.lock:  # a new connection vouches for nothing until its first heartbeat
                self.caught_up, self.staging = False, None
            delay = 0.05 if self.last_word != heard else min(delay * 2, 1.0)
            time.sleep(delay)

    def start(self):
        threading.Thread(target=self.run, name="revocations", daemon=True).start()
        return self

    def revoked(self, claims, grace):
        """Whether the token's session ended, its generation is retired (grace seconds after the
        renewal for the one just before), or its user logged out everywhere after its login."""
        with self.lock:
            if not self.current():
                raise NotCurrent()
            now = time.time()
            generation, renewed_at_us, ended, expires_at = self.sessions.get(claims["sid"], (0, 0, False, 0))
            if expires_at >= now and (ended or claims["gen"] < generation - 1 or (
                    claims["gen"] == generation - 1 and now * 1e6 - renewed_at_us >= grace * 1e6)):
                return True
            cutoff_us, expires_at = self.subjects.get(claims["sub"], (0, 0))
            return expires_at >= now and claims["auth_us"] <= cutoff_us
