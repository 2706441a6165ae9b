"""Kroger OAuth2: the authorisation-code flow with refresh, and the household's token file (0600).

Follows the Kroger Public API's published OAuth2 endpoints (https://developer.kroger.com/reference, "Authorization"):
  GET  {api}/connect/oauth2/authorize?scope=..&response_type=code&client_id=..&redirect_uri=..&state=..
  POST {api}/connect/oauth2/token   (HTTP Basic client_id:client_secret, form-encoded)
       grant_type=authorization_code&code=..&redirect_uri=..   or   grant_type=refresh_token&refresh_token=..
       -> {"access_token", "token_type": "bearer", "expires_in": 1800, "refresh_token"}
Tokens are stored in `<household>/kroger_tokens.json`, created 0600 and refused if group/others can read it.
No token, code or client secret is ever logged.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import secrets
import ssl
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from ..errors import ConfigError, RetailerError, RetailerUnavailable
from ..secrets import Secret, check_private, write_private

log = logging.getLogger(__name__)
#: One verifying TLS context for every call: building one costs more than a loopback call itself.
tls_context = functools.cache(ssl.create_default_context)
TOKEN_FILE = "kroger_tokens.json"
#: Scopes: adding to the user's cart, and reading products with prices.
SCOPES = "cart.basic:write product.compact"
LOGIN_HINT = "run: assistant retailer login kroger"
#: Refresh this long before the access token expires, so a call never starts with a token about to lapse.
EARLY = timedelta(seconds=60)


@dataclass(frozen=True)
class Tokens:
    """The household's Kroger tokens."""

    access_token: str
    """Bearer token for API calls (about 30 minutes)."""
    refresh_token: str
    """Long-lived token that gets a new access token."""
    expires_at: str
    """When the access token expires, ISO 8601 aware UTC."""

    def __repr__(self) -> str:
        return f"Tokens(expires_at={self.expires_at!r})"

    def expired(self, now: datetime) -> bool:
        return now + EARLY >= datetime.fromisoformat(self.expires_at)


class TokenStore:
    """The token file in the household folder: written 0600, refused when others can read it."""

    def __init__(self, home: Path) -> None:
        self.path = home / TOKEN_FILE

    def load(self) -> Tokens | None:
        if not self.path.exists():
            return None
        check_private(self.path, "Kroger token file")
        try:
            return Tokens(**json.loads(self.path.read_text(encoding="utf-8")))
        except (ValueError, TypeError) as err:
            raise ConfigError(f"Kroger token file {self.path} is damaged", hint=LOGIN_HINT) from err

    def save(self, tokens: Tokens) -> None:
        write_private(self.path, json.dumps(asdict(tokens)))


@dataclass(frozen=True)
class LoginRequest:
    """One login attempt: the URL to open and the state that the redirect must carry back."""

    url: str
    """The authorize URL the user opens in a browser."""
    state: str
    """Anti-forgery value; the redirect must return it unchanged."""


class KrogerOAuth:
    """Authorisation-code flow and refresh against Kroger's token endpoint."""

    def __init__(
        self,
        api_url: str,
        client_id: Secret,
        client_secret: Secret,
        redirect_uri: str,
        store: TokenStore,
        clock: Callable[[], datetime],
        timeout_s: float = 10.0,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.redirect_uri = redirect_uri
        self.store = store
        self._id, self._secret, self._clock, self._timeout = client_id, client_secret, clock, timeout_s
        self._refreshing = asyncio.Lock()

    def __repr__(self) -> str:
        return f"KrogerOAuth({self.api_url!r})"

    def login_request(self) -> LoginRequest:
        state = secrets.token_urlsafe(16)
        query = {
            "scope": SCOPES,
            "response_type": "code",
            "client_id": self._id.reveal(),
            "redirect_uri": self.redirect_uri,
            "state": state,
        }
        return LoginRequest(f"{self.api_url}/connect/oauth2/authorize?{urlencode(query)}", state)

    async def finish_login(self, redirected: str, request: LoginRequest) -> Tokens:
        """Exchange the code of a redirected URL (or a bare code) for tokens, and store them."""
        code = code_from_redirect(redirected, request.state)
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri}
        tokens = await self._grant(form, previous_refresh="")
        log.info("Kroger login stored in %s", self.store.path)
        return tokens

    async def access_token(self, *, force_refresh: bool = False, used: str | None = None) -> str:
        """A valid access token; refreshes when it expires (or after a 401 on token `used`)."""
        tokens = self.store.load()
        if tokens is None:
            raise RetailerError("the assistant is not logged in to Kroger", hint=LOGIN_HINT)
        if not force_refresh and not tokens.expired(self._clock()):
            return tokens.access_token
        async with self._refreshing:
            tokens = self.store.load() or tokens
            # Another task may have refreshed while this one waited.
            if tokens.access_token != used and not tokens.expired(self._clock()):
                return tokens.access_token
            log.info("refreshing the Kroger access token")
            form = {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token}
            return (await self._grant(form, previous_refresh=tokens.refresh_token)).access_token

    async def _grant(self, form: dict[str, str], previous_refresh: str) -> Tokens:
        url = f"{self.api_url}/connect/oauth2/token"
        try:
            async with httpx.AsyncClient(timeout=self._timeout, verify=tls_context(), trust_env=False) as client:
                response = await client.post(url, data=form, auth=(self._id.reveal(), self._secret.reveal()))
        except httpx.TransportError as err:  # includes timeouts
            raise RetailerUnavailable(
                f"cannot reach Kroger's login service ({type(err).__name__})", retry_safe=True
            ) from err
        if response.status_code >= 500 or response.status_code == 429:
            raise RetailerUnavailable(f"Kroger's login service failed (HTTP {response.status_code})", retry_safe=True)
        try:
            data = response.json()
        except ValueError:
            data = {}
        if not response.is_success:
            reason = data.get("error_description") or data.get("error") or f"HTTP {response.status_code}"
            raise RetailerError(f"Kroger refused the login: {reason}", hint=LOGIN_HINT)
        try:
            lifetime = timedelta(seconds=int(data["expires_in"]))
            tokens = Tokens(
                access_token=str(data["access_token"]),
                refresh_token=str(data.get("refresh_token") or previous_refresh),
                expires_at=(self._clock() + lifetime).isoformat(),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise RetailerUnavailable("Kroger's login service sent an answer I cannot read", retry_safe=True) from err
        if not tokens.refresh_token:
            raise RetailerError("Kroger sent no refresh token", hint=LOGIN_HINT)
        self.store.save(tokens)
        return tokens


def code_from_redirect(redirected: str, state: str) -> str:
    """The `code` of a redirected URL (checking its `state`), or the text itself when it is a bare code."""
    text = redirected.strip()
    if "?" not in text and "=" not in text:
        if not text:
            raise RetailerError("no authorization code given", hint=LOGIN_HINT)
        return text
    query = parse_qs(urlsplit(text).query)
    if "error" in query:
        raise RetailerError(f"Kroger did not authorise the assistant: {query['error'][0]}", hint=LOGIN_HINT)
    if query.get("state", [""])[0] != state:
        raise RetailerError("the redirect's state does not match this login (an old or forged link)", hint=LOGIN_HINT)
    codes = query.get("code")
    if not codes or not codes[0]:
        raise RetailerError("the redirected URL carries no code", hint=LOGIN_HINT)
    return codes[0]
