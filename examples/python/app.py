"""An orders service in Flask that verifies a fastify-jwt-session issuer's tokens with PyJWT and
follows its revocation feed, so that a logout at the issuer is refused here too.

Environment:
  ISSUER_URL      where the issuer listens, such as http://127.0.0.1:3001 (required)
  JWT_ISSUER      the `iss` of its tokens (its `issuer` option; required)
  JWT_AUDIENCE    the `aud` its tokens must carry (its `audience` option), when it sets one
  JWT_SECRET      the issuer's HS256 secret; without it, its JWKS (ISSUER_URL/.well-known/jwks.json)
  FEED_KEY        sent as `x-feed-key` to GET ISSUER_URL/@revocations (what the issuer's `authorize` checks)
  MAX_STALENESS   seconds without a verified event before every token answers 503 (5)
  RENEW_GRACE     the issuer's `renewGrace`, in seconds (10)
  CLOCK_TOLERANCE seconds of leeway on `exp` and `iat` (5)
  HOST, PORT      where this service listens (127.0.0.1, 5000)
"""
import logging
import os
import time

import jwt
from flask import Flask, jsonify, request

from revocations import NotCurrent, Revocations

env = os.environ
ISSUER_URL = env["ISSUER_URL"].rstrip("/")
ISSUER, AUDIENCE, SECRET = env["JWT_ISSUER"], env.get("JWT_AUDIENCE") or None, env.get("JWT_SECRET") or None
GRACE, LEEWAY = float(env.get("RENEW_GRACE", "10")), int(env.get("CLOCK_TOLERANCE", "5"))

if SECRET is not None:
    ALGORITHMS = ["HS256"]
    def key_for(token):
        return SECRET
else:
    # Asymmetric algorithms only: a public key can never pass for an HMAC secret.
    ALGORITHMS = ["ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA"]
    jwks = jwt.PyJWKClient(ISSUER_URL + "/.well-known/jwks.json")
    def key_for(token):
        return jwks.get_signing_key_from_jwt(token).key

feed = Revocations(ISSUER_URL + "/@revocations", {"x-feed-key": env.get("FEED_KEY", "")}, key_for, ALGORITHMS, ISSUER,
                   max_staleness=float(env.get("MAX_STALENESS", "5")), leeway=LEEWAY)
app = Flask(__name__)
orders = {}


def refuse(status, code, message):
    response = jsonify(statusCode=status, code=code, error="Unauthorized" if status == 401 else "Service Unavailable", message=message)
    response.status_code = status
    if status == 503:
        response.headers["Retry-After"] = "1"
    return response


def verified_claims(token):
    """The access token's claims, checked as the issuer checks them; raises jwt.InvalidTokenError."""
    typ = jwt.get_unverified_header(token).get("typ")
    if typ is not None and str(typ).lower() not in ("jwt", "application/jwt"):
        raise jwt.InvalidTokenError("not an access token (a revocation feed's SET is typ secevent+jwt)")
    claims = jwt.decode(token, key_for(token), algorithms=ALGORITHMS, issuer=ISSUER, audience=AUDIENCE, leeway=LEEWAY,
                        options={"require": ["exp", "iat", "sub", "sid", "jti"], "verify_aud": AUDIENCE is not None})
    counts = [claims.get(name) for name in ("gen", "auth_us")]
    if "events" in claims or not all(type(count) is int and count >= 0 for count in counts) or claims["iat"] > time.time() + LEEWAY:
        raise jwt.InvalidTokenError("not one of the issuer's session tokens")
    return claims


@app.get("/orders")
def list_orders():
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return refuse(401, "FST_JWT_SESSION_NO_TOKEN", "No token")
    try:
        claims = verified_claims(token)
    except jwt.ExpiredSignatureError:
        return refuse(401, "FST_JWT_SESSION_EXPIRED_TOKEN", "The token has expired")
    except (jwt.InvalidTokenError, jwt.PyJWKClientError):
        return refuse(401, "FST_JWT_SESSION_INVALID_TOKEN", "The token is invalid")
    try:
        if feed.revoked(claims, GRACE):
            return refuse(401, "FST_JWT_SESSION_REVOKED_TOKEN", "The token has been revoked")
    except NotCurrent:
        return refuse(503, "FST_JWT_SESSION_STORE_UNAVAILABLE", "The revocation feed is not current")
    return jsonify(user=claims["sub"], orders=orders.get(claims["sub"], []))


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    feed.start()
    app.run(host=env.get("HOST", "127.0.0.1"), port=int(env.get("PORT", "5000")), threaded=True)
