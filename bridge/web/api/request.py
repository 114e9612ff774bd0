"""What every API handler needs: Mastodon-shaped errors, bearer-token checks, and request parameters
from query string, form, multipart or JSON bodies alike (Mastodon clients send all four)."""

from __future__ import annotations

import json

from aiohttp import web
from multidict import MultiDictProxy
from sqlalchemy.ext.asyncio import AsyncSession

from activitypub.jsonload import MAX_BYTES, JsonLoaded, JsonReason, load_json
from bridge.store.models import ApiToken
from bridge.auth.oauth import scope_covers
from bridge.auth.tokens import TOKEN_TEXT, TokenReason, authenticate_token, refuse_token
from bridge.web.api.scopes import required_scopes
from bridge.web.form_reader import InputReason, has_invalid_characters, read_form, refusal

NOT_FOUND = "Record not found"  # Mastodon's words for a missing or invisible record
JSON_TYPES = ("application/json",)
MAX_ID = 2**63 - 1  # ids are signed 64-bit integers
MAX_ROW_ID = 2**31 - 1  # accounts (actor) and replies (reply) have 32-bit ids: PostgreSQL refuses larger ones

# Mastodon answers an unusable token with 401 and a disabled login with 403; a token whose user lost
# the right to post as its account is a permission problem too, not an authentication problem.
TOKEN_STATUS = {
    TokenReason.MISSING: 401,
    TokenReason.UNKNOWN: 401,
    TokenReason.REVOKED: 401,
    TokenReason.USER_DISABLED: 403,
    TokenReason.ACTOR_NOT_ALLOWED: 403,
}


ERRORS = {400: web.HTTPBadRequest, 401: web.HTTPUnauthorized, 403: web.HTTPForbidden, 404: web.HTTPNotFound,
          422: web.HTTPUnprocessableEntity}
JSON_TEXT = {JsonReason.TOO_LARGE: f"The request body is larger than {MAX_BYTES} bytes",
             JsonReason.TOO_DEEP: "The request body nests too deeply",
             JsonReason.INVALID_JSON: "The request body is not valid JSON",
             JsonReason.NOT_AN_OBJECT: "The request body must be a JSON object"}


def api_error(status: int, message: str, reason: str | None = None) -> web.HTTPException:
    """An exception carrying `{"error": message}` (and `reason`, a code, where one is known); the errors
    middleware passes JSON bodies through."""
    body = {"error": message} | ({"reason": str(reason)} if reason else {})
    return ERRORS[status](text=json.dumps(body), content_type="application/json")


def validation_error(description: str) -> web.HTTPException:
    return api_error(422, f"Validation failed: {description}")


async def authorize(request: web.Request, session: AsyncSession, *, required: bool = True) -> ApiToken | None:
    """The request's token, or an error. Without a header and `required=False` the caller is anonymous;
    a header that is present but wrong is always refused, as Mastodon does."""
    header = request.headers.get("Authorization")
    if header is None and not required:
        return None
    if header is not None and not header.isascii():
        # Header bytes beyond ASCII arrive as escaped surrogates; no token has them, so they become "?",
        # which no token has either: refused (and audited) as an unknown token.
        header = header.encode("ascii", "replace").decode("ascii")
    result = await authenticate_token(session, header)
    if result.ok:
        needed = required_scopes(request)
        if needed is None or (needed and not scope_covers(result.token.scopes, needed)):
            # A route missing from the table is refused to every token: a new route is guarded or unusable.
            refused = await refuse_token(session, result.token, TokenReason.OUTSIDE_SCOPES)
            raise api_error(403, refused.description)
        return result.token
    # Mastodon says "invalid" for a missing token as well; the audit entry keeps the precise reason.
    message = TOKEN_TEXT[TokenReason.UNKNOWN] if result.reason is TokenReason.MISSING else result.description
    raise api_error(TOKEN_STATUS.get(result.reason, 401), message)


def path_id(request: web.Request, maximum: int = MAX_ID) -> int:
    """The record id in the URL; one that cannot be an id is a record that does not exist."""
    raw = request.match_info["id"]
    if not raw.isdecimal() or int(raw) > maximum:  # isdigit() would pass "²", which int() refuses
        raise api_error(404, NOT_FOUND)
    return int(raw)


class Params:
    """Request parameters with Mastodon's conventions: `name[]` and repeated `name` both make a list."""

    def __init__(self, values: dict[str, list]):
        self._values = values

    def get(self, name: str) -> str | None:
        """The last text value; an uploaded file never counts as text."""
        values = [v for v in self._values.get(name, []) if isinstance(v, str)]
        return values[-1] if values else None

    def getlist(self, name: str) -> list[str]:
        return [v for v in self._values.get(f"{name}[]", []) + self._values.get(name, []) if isinstance(v, str)]

    def filled(self, name: str) -> bool:
        """Whether `name`, `name[]` or any `name[...]` was sent with a non-empty value."""
        return any(v not in ("", None) for k, values in self._values.items()
                   if k == name or k.startswith(f"{name}[") for v in values)

    def file(self, name: str) -> web.FileField | None:
        files = [v for v in self._values.get(name, []) if isinstance(v, web.FileField)]
        return files[-1] if files else None


async def read_params(request: web.Request) -> Params:
    """Query and body parameters; a body that cannot be read, or text that cannot be stored, is a 4xx with
    a reason, the same on every database."""
    values = _collect(request.query)
    if request.content_type in JSON_TYPES or request.content_type.endswith("+json"):
        for key, value in (await _read_json(request)).items():
            values[key] = _json_values(value)
    elif request.body_exists:
        values.update(_collect(await read_form(request, None, api=True)))
    if has_invalid_characters((key, value) for key, items in values.items() for value in items):
        raise refusal(InputReason.INVALID_CHARACTERS, api=True)
    return Params(values)


def _collect(multi: MultiDictProxy) -> dict[str, list]:
    values: dict[str, list] = {}
    for key, value in multi.items():
        values.setdefault(key, []).append(value)
    return values


async def _read_json(request: web.Request) -> dict:
    """The body as a JSON object, bounded in size and depth by the inbox's rule (`load_json`)."""
    raw = await request.read()
    if request.charset and request.charset.lower().replace("_", "-") not in ("utf-8", "utf8"):
        try:  # JSON is UTF-8 (RFC 8259); a client naming another charset gets it honoured, or refused
            raw = raw.decode(request.charset).encode("utf-8", "surrogatepass")
        except (LookupError, UnicodeDecodeError):
            raise refusal(InputReason.UNREADABLE, api=True) from None
    loaded = load_json(raw or b"{}")
    if not isinstance(loaded, JsonLoaded):
        raise api_error(400, JSON_TEXT[loaded.reason], loaded.reason)
    return loaded.value


def _json_values(value) -> list:
    """JSON scalars become the strings a form would have sent; arrays become lists of them."""
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, bool):
            out.append("true" if item else "false")
        elif item is None:
            continue
        elif isinstance(item, (dict, list)):
            out.append(json.dumps(item))
        else:
            out.append(str(item))
    return out
