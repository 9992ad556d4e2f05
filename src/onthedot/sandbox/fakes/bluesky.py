"""A contract fake of Bluesky: a PDS (with its entryway) and the video service.

Written from Bluesky's documentation and lexicons, point by point:

- sessions: com.atproto.server.createSession (app password; 30 per 5 minutes per account,
  https://docs.bsky.app/docs/advanced-guides/rate-limits) answering access and refresh JWTs,
  the DID and a DID document naming the PDS; refreshSession with the refresh JWT, which
  rotates it; errors ExpiredToken / InvalidToken / AccountTakedown
  (https://docs.bsky.app/docs/api/com-atproto-server-refresh-session);
- records: com.atproto.repo.createRecord (a post's key must be a TID; the post record is
  checked against lexicon app.bsky.feed.post: 300 graphemes, 3000 bytes, blobs that exist);
  a second create under a taken key fails with 500, as the reference PDS does today
  (github.com/bluesky-social/atproto issue 3718), or RecordAlreadyExists (pull request 4728);
  a client's key must be a TID near the PDS's clock (`rkey_window`);
  getRecord answers RecordNotFound;
- blobs: uploadBlob (50 MB per blob on Bluesky's PDS);
- video: getServiceAuth, app.bsky.video.uploadVideo (the answer is the bare job, as the live
  service sends it -- issues 3026 and 3097 -- and 409 already_exists for a video processed
  before) and getJobStatus, with processing driven by the injected clock
  (https://docs.bsky.app/docs/tutorials/video);
- every answer carries RateLimit-Limit/-Remaining/-Reset/-Policy; a limit answers 429
  RateLimitExceeded.

Anything else under a path that is not /xrpc/ is a web page from `pages`, for link cards.
Knobs for tests: `add_account`, `expire_access`, `revoke`, `take_down`, `limit`,
`reject_text`, `video_processing_s`, `video_failure`, `duplicate_error`, `engage`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import itertools
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit

import orjson
import regex
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onthedot.clock import Clock

__all__ = ["BlueskyFake", "FakeAccount"]

ACCESS_TTL: Final = dt.timedelta(hours=2)
REFRESH_TTL: Final = dt.timedelta(days=90)
MAX_BLOB: Final = 52_428_800
IP_LIMIT: Final = (3000, 300)
SESSION_LIMIT: Final = (30, 300)
WRITE_LIMIT: Final = (5000, 3600)
# Blob maxSize per embed: app.bsky.embed.images 2,000,000 since April 2026 (bsky-docs pull
# request 414), app.bsky.embed.video 300,000,000 (atproto pull request 5373), and
# app.bsky.embed.external's thumb 1,000,000.
_BLOB_LIMITS: Final = {
    "app.bsky.embed.images": 2_000_000,
    "app.bsky.embed.video": 300_000_000,
    "app.bsky.embed.external": 1_000_000,
}
_TID_ALPHABET: Final = "234567abcdefghijklmnopqrstuvwxyz"
_TID_RE: Final = regex.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
_GRAPHEME_RE: Final = regex.compile(r"\X")

Handler = Callable[[Request, "Caller"], Awaitable[Response]]


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status, media_type="application/json")


def _error(status: int, name: str, message: str) -> Response:
    return _json({"error": name, "message": message}, status)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _cid(data: bytes) -> str:
    return "bafyrei" + base64.b32encode(hashlib.sha256(data).digest()).decode().lower()[:52]


@dataclass
class FakeAccount:
    did: str
    handle: str
    app_password: str
    email: str
    display_name: str = ""
    email_confirmed: bool = True
    taken_down: bool = False
    sign_ins: list[dt.datetime] = field(default_factory=list)


@dataclass
class Token:
    did: str
    expires: dt.datetime
    kind: str  # "access", "refresh" or "service"
    revoked: bool = False
    aud: str = ""
    lxm: str = ""


@dataclass
class Caller:
    account: FakeAccount | None
    host: str


@dataclass
class VideoJob:
    job_id: str
    did: str
    data: bytes
    started: dt.datetime
    blob: dict[str, Any] | None = None


class BlueskyFake:
    def __init__(
        self,
        clock: Clock,
        *,
        pds_url: str = "https://pds.bsky.test",
        video_host: str = "video.bsky.test",
    ) -> None:
        self.clock = clock
        self.pds_url = pds_url.rstrip("/")
        self.video_host = video_host
        self.accounts: dict[str, FakeAccount] = {}
        self.tokens: dict[str, Token] = {}
        self.records: dict[tuple[str, str, str], tuple[str, dict[str, Any]]] = {}
        self.blobs: dict[tuple[str, str], dict[str, Any]] = {}
        self.jobs: dict[str, VideoJob] = {}
        self.handles: dict[str, str] = {}  # other accounts, for mentions
        self.pages: dict[str, tuple[int, str, bytes]] = {}
        self.counts: dict[str, dict[str, int]] = {}
        self.calls: list[tuple[str, str, str]] = []  # (host, method, nsid)
        # Knobs.
        self.limits: dict[str, tuple[dt.datetime, frozenset[str] | None]] = {}
        self.rejections: list[tuple[str, str]] = []
        self.video_processing_s = 30.0
        self.video_failure: str | None = None
        self.duplicate_error = "InternalServerError"
        # How far a client's post key may be from the PDS's clock (10 minutes when the PDS
        # began to take them: github.com/intrnl/langit issue 19); None takes any.
        self.rkey_window: dt.timedelta | None = dt.timedelta(minutes=10)
        self._ids = itertools.count(1)
        self._handlers: dict[str, Handler] = {
            "com.atproto.server.createSession": self._create_session,
            "com.atproto.server.refreshSession": self._refresh_session,
            "com.atproto.server.getServiceAuth": self._service_auth,
            "com.atproto.identity.resolveHandle": self._resolve_handle,
            "com.atproto.repo.uploadBlob": self._upload_blob,
            "com.atproto.repo.createRecord": self._create_record,
            "com.atproto.repo.getRecord": self._get_record,
            "app.bsky.actor.getProfile": self._get_profile,
            "app.bsky.feed.getPosts": self._get_posts,
            "app.bsky.video.uploadVideo": self._upload_video,
            "app.bsky.video.getJobStatus": self._job_status,
        }
        self.app = Starlette(
            routes=[
                Route("/xrpc/{nsid}", self._xrpc, methods=["GET", "POST"]),
                Route("/{path:path}", self._page, methods=["GET"]),
            ]
        )

    # --- knobs ------------------------------------------------------------------------------

    def add_account(self, handle: str, app_password: str, *, display_name: str = "") -> str:
        did = "did:plc:" + hashlib.sha256(handle.encode()).hexdigest()[:24]
        self.accounts[did] = FakeAccount(
            did, handle, app_password, f"{handle.split('.')[0]}@mail.test", display_name
        )
        self.handles[handle] = did
        return did

    def account(self, handle: str) -> FakeAccount:
        return self.accounts[self.handles[handle]]

    def expire_access(self, handle: str) -> None:
        """The account's access tokens are past their `exp` on the PDS's clock."""
        for token in self.tokens.values():
            if token.did == self.handles[handle] and token.kind == "access":
                token.expires = self.clock.now() - dt.timedelta(seconds=1)

    def revoke(self, handle: str) -> None:
        """The user deleted the app password: every session it opened is revoked."""
        account = self.account(handle)
        account.app_password = ""
        for token in self.tokens.values():
            if token.did == account.did:
                token.revoked = True

    def take_down(self, handle: str) -> None:
        self.account(handle).taken_down = True

    def limit(self, handle: str | None, until: dt.datetime, nsids: set[str] | None = None) -> None:
        """429 until `until`: for one account's calls, or (handle None) for the whole IP."""
        key = self.handles[handle] if handle is not None else "ip"
        self.limits[key] = (until, frozenset(nsids) if nsids else None)

    def reject_text(self, contains: str, message: str) -> None:
        self.rejections.append((contains, message))

    def engage(self, uri: str, **counts: int) -> None:
        self.counts[uri] = counts

    def posts(self, handle: str) -> list[tuple[str, dict[str, Any]]]:
        """The account's posts in record-key order: (rkey, record)."""
        did = self.handles[handle]
        keys = sorted(k for k in self.records if k[0] == did and k[1] == "app.bsky.feed.post")
        return [(k[2], self.records[k][1]) for k in keys]

    # --- plumbing ---------------------------------------------------------------------------

    def _jwt(self, did: str, kind: str, ttl: dt.timedelta, **extra: str) -> str:
        now = self.clock.now()
        claims = {
            "scope": "com.atproto.appPass" if kind == "access" else f"com.atproto.{kind}",
            "sub": did,
            "iat": int(now.timestamp()),
            "exp": int((now + ttl).timestamp()),
            "jti": secrets.token_hex(8),
            **extra,
        }
        header = _b64(orjson.dumps({"typ": f"{kind}+jwt", "alg": "ES256K"}))
        token = f"{header}.{_b64(orjson.dumps(claims))}.{_b64(secrets.token_bytes(32))}"
        self.tokens[token] = Token(did, now + ttl, kind, aud=extra.get("aud", ""))
        self.tokens[token].lxm = extra.get("lxm", "")
        return token

    def _rate_headers(self, limit: int, window: int, remaining: int) -> dict[str, str]:
        reset = int(self.clock.now().timestamp()) + window
        return {
            "RateLimit-Limit": str(limit),
            "RateLimit-Remaining": str(remaining),
            "RateLimit-Reset": str(reset),
            "RateLimit-Policy": f"{limit};w={window}",
        }

    def _limited(self, key: str, nsid: str, limit: tuple[int, int]) -> Response | None:
        rule = self.limits.get(key)
        if rule is None or self.clock.now() >= rule[0] or (rule[1] and nsid not in rule[1]):
            return None
        response = _error(429, "RateLimitExceeded", "Rate Limit Exceeded")
        response.headers.update(self._rate_headers(*limit, 0))
        response.headers["RateLimit-Reset"] = str(int(rule[0].timestamp()))
        return response

    def _bearer(self, request: Request) -> str:
        header = request.headers.get("authorization", "")
        return header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""

    def _check(self, token: str, kind: str) -> Token | Response:
        if not token:
            return _error(401, "AuthMissing", "Authentication Required")
        found = self.tokens.get(token)
        if found is None or found.kind != kind:
            return _error(400, "InvalidToken", "Token could not be verified")
        if found.revoked:
            return _error(401, "ExpiredToken", "Token has been revoked")
        if self.clock.now() >= found.expires:
            return _error(400, "ExpiredToken", "Token has expired")
        return found

    async def _xrpc(self, request: Request) -> Response:
        nsid = request.path_params["nsid"]
        host = request.url.hostname or ""
        self.calls.append((host, request.method, nsid))
        handler = self._handlers.get(nsid)
        is_video = nsid.startswith("app.bsky.video.")
        if handler is None or is_video != (host == self.video_host):
            return _error(501, "MethodNotImplemented", f"Method Not Implemented: {nsid}")
        limited = self._limited("ip", nsid, IP_LIMIT)
        if limited is not None:
            return limited
        caller = Caller(None, host)
        if nsid not in _PUBLIC and not is_video:
            kind = "refresh" if nsid == "com.atproto.server.refreshSession" else "access"
            checked = self._check(self._bearer(request), kind)
            if isinstance(checked, Response):
                return checked
            caller.account = self.accounts[checked.did]
            if caller.account.taken_down:
                return _error(400, "AccountTakedown", "Account has been taken down")
            if kind == "refresh":
                checked.revoked = True  # refresh JWTs rotate: each is used once
            limited = self._limited(caller.account.did, nsid, WRITE_LIMIT)
            if limited is not None:
                return limited
        response = await handler(request, caller)
        if "ratelimit-limit" not in response.headers:
            response.headers.update(self._rate_headers(*IP_LIMIT, IP_LIMIT[0] - 1))
        return response

    async def _page(self, request: Request) -> Response:
        status, content_type, body = self.pages.get(request.url.path, (404, "text/html", b""))
        return Response(body, status, media_type=content_type)

    def _session(self, account: FakeAccount) -> dict[str, Any]:
        return {
            "accessJwt": self._jwt(account.did, "access", ACCESS_TTL, aud=_did_web(self.pds_url)),
            "refreshJwt": self._jwt(account.did, "refresh", REFRESH_TTL),
            "handle": account.handle,
            "did": account.did,
            "didDoc": {
                "@context": ["https://www.w3.org/ns/did/v1"],
                "id": account.did,
                "alsoKnownAs": [f"at://{account.handle}"],
                "service": [
                    {
                        "id": "#atproto_pds",
                        "type": "AtprotoPersonalDataServer",
                        "serviceEndpoint": self.pds_url,
                    }
                ],
            },
            "email": account.email,
            "emailConfirmed": account.email_confirmed,
            "active": True,
        }

    # --- sessions ---------------------------------------------------------------------------

    async def _create_session(self, request: Request, caller: Caller) -> Response:
        body = orjson.loads(await request.body() or b"{}")
        identifier = str(body.get("identifier", "")).removeprefix("@").lower()
        account = next(
            (a for a in self.accounts.values() if identifier in (a.handle, a.did, a.email.lower())),
            None,
        )
        if account is not None:
            now = self.clock.now()
            window = now - dt.timedelta(seconds=SESSION_LIMIT[1])
            account.sign_ins = [t for t in account.sign_ins if t > window]
            if len(account.sign_ins) >= SESSION_LIMIT[0]:
                response = _error(429, "RateLimitExceeded", "Rate Limit Exceeded")
                response.headers.update(self._rate_headers(*SESSION_LIMIT, 0))
                reset = account.sign_ins[0] + dt.timedelta(seconds=SESSION_LIMIT[1])
                response.headers["RateLimit-Reset"] = str(int(reset.timestamp()))
                return response
            account.sign_ins.append(now)
        if (
            account is None
            or not account.app_password
            or body.get("password") != (account.app_password)
        ):
            return _error(401, "AuthenticationRequired", "Invalid identifier or password")
        if account.taken_down:
            return _error(400, "AccountTakedown", "Account has been taken down")
        return _json(self._session(account))

    async def _refresh_session(self, request: Request, caller: Caller) -> Response:
        assert caller.account is not None
        return _json(self._session(caller.account))

    async def _service_auth(self, request: Request, caller: Caller) -> Response:
        assert caller.account is not None
        aud, lxm = request.query_params.get("aud", ""), request.query_params.get("lxm", "")
        exp = int(request.query_params.get("exp") or self.clock.now().timestamp() + 60)
        ttl = dt.timedelta(seconds=exp - int(self.clock.now().timestamp()))
        if not aud.startswith("did:"):
            return _error(400, "InvalidRequest", 'Error: Params must have the property "aud"')
        if ttl > dt.timedelta(hours=1):
            return _error(
                400,
                "BadExpiration",
                "cannot request a token with an expiration more than an hour in the future",
            )
        return _json({"token": self._jwt(caller.account.did, "service", ttl, aud=aud, lxm=lxm)})

    # --- identity, profiles, records ---------------------------------------------------------

    async def _resolve_handle(self, request: Request, caller: Caller) -> Response:
        did = self.handles.get(request.query_params.get("handle", "").lower())
        if did is None:
            return _error(400, "InvalidRequest", "Unable to resolve handle")
        return _json({"did": did})

    async def _get_profile(self, request: Request, caller: Caller) -> Response:
        actor = request.query_params.get("actor", "")
        account = self.accounts.get(actor) or self.accounts.get(self.handles.get(actor, ""))
        if account is None:
            return _error(400, "InvalidRequest", "Profile not found")
        return _json(
            {"did": account.did, "handle": account.handle, "displayName": account.display_name}
        )

    async def _upload_blob(self, request: Request, caller: Caller) -> Response:
        assert caller.account is not None
        data = await request.body()
        if len(data) > MAX_BLOB:
            return _error(413, "PayloadTooLarge", "request entity too large")
        mime = request.headers.get("content-type", "application/octet-stream")
        blob = {"$type": "blob", "ref": {"$link": _cid(data)}, "mimeType": mime, "size": len(data)}
        self.blobs[(caller.account.did, _cid(data))] = blob
        return _json({"blob": blob})

    async def _create_record(self, request: Request, caller: Caller) -> Response:
        account = caller.account
        assert account is not None
        body = orjson.loads(await request.body() or b"{}")
        repo, collection = body.get("repo"), body.get("collection")
        rkey, record = body.get("rkey"), body.get("record")
        if repo not in (account.did, account.handle):
            return _error(400, "InvalidRequest", "Invalid repo: not the authenticated account")
        if collection != "app.bsky.feed.post" or not isinstance(record, dict):
            return _error(400, "InvalidRequest", "Invalid collection or record")
        if rkey is not None and not (isinstance(rkey, str) and _TID_RE.match(rkey)):
            return _error(400, "InvalidRequest", "Invalid record key: a post's key must be a TID")
        if rkey is not None and self.rkey_window is not None:
            written = dt.datetime.fromtimestamp(_tid_micros(rkey) / 1e6, dt.UTC)
            if abs(written - self.clock.now()) > self.rkey_window:
                return _error(400, "InvalidRequest", "Invalid record key: too far from now")
        problem = self._invalid_post(account.did, record)
        if problem is not None:
            return _error(400, "InvalidRequest", f"Invalid app.bsky.feed.post record: {problem}")
        for contains, message in self.rejections:
            if contains in str(record.get("text", "")):
                return _error(400, "InvalidRequest", message)
        rkey = rkey or _tid_now(self.clock.now())
        key = (account.did, collection, rkey)
        if key in self.records:
            if self.duplicate_error == "RecordAlreadyExists":
                return _error(400, "RecordAlreadyExists", "Record already exists")
            return _error(500, "InternalServerError", "Internal Server Error")
        cid = _cid(orjson.dumps(record, option=orjson.OPT_SORT_KEYS))
        self.records[key] = (cid, record)
        rev = _tid_now(self.clock.now())
        return _json(
            {
                "uri": f"at://{account.did}/{collection}/{rkey}",
                "cid": cid,
                "commit": {"cid": _cid(rev.encode()), "rev": rev},
                "validationStatus": "valid",
            }
        )

    def _invalid_post(self, did: str, record: dict[str, Any]) -> str | None:
        text = record.get("text")
        if not isinstance(text, str) or not isinstance(record.get("createdAt"), str):
            return 'Record must have the properties "text" and "createdAt"'
        if len(_GRAPHEME_RE.findall(text)) > 300:
            return "Record/text must not be longer than 300 graphemes"
        if len(text.encode()) > 3000:
            return "Record/text must not be longer than 3000 characters"
        size = len(text.encode())
        for facet in record.get("facets") or []:
            index = facet.get("index", {})
            if not 0 <= index.get("byteStart", -1) <= index.get("byteEnd", -1) <= size:
                return "Record/facets has a byte range outside the text"
        reply = record.get("reply")
        if reply is not None and not all(
            isinstance(reply.get(k), dict) and {"uri", "cid"} <= reply[k].keys()
            for k in ("root", "parent")
        ):
            return 'Record/reply must have the properties "root" and "parent"'
        embed = record.get("embed") or {}
        blobs: list[Any] = []
        if embed.get("$type") == "app.bsky.embed.images":
            images = embed.get("images") or []
            if not 1 <= len(images) <= 4 or any(not isinstance(i.get("alt"), str) for i in images):
                return "Record/embed/images must have 1 to 4 images, each with alt text"
            blobs = [i.get("image") for i in images]
        elif embed.get("$type") == "app.bsky.embed.video":
            blobs = [embed.get("video")]
        elif embed.get("$type") == "app.bsky.embed.external":
            thumb = embed.get("external", {}).get("thumb")
            blobs = [thumb] if thumb is not None else []
        limit = _BLOB_LIMITS.get(str(embed.get("$type")), 0)
        for blob in blobs:
            link = blob.get("ref", {}).get("$link") if isinstance(blob, dict) else None
            stored = self.blobs.get((did, str(link)))
            if stored is None:
                return f"Could not find blob: {link}"
            if stored["size"] > limit:
                return f"Record/embed blob is too big (maximum {limit} bytes)"
        return None

    async def _get_record(self, request: Request, caller: Caller) -> Response:
        params = request.query_params
        repo = self.handles.get(params.get("repo", ""), params.get("repo", ""))
        key = (repo, params.get("collection", ""), params.get("rkey", ""))
        uri = f"at://{key[0]}/{key[1]}/{key[2]}"
        if key not in self.records:
            return _error(400, "RecordNotFound", f"Could not locate record: {uri}")
        cid, value = self.records[key]
        return _json({"uri": uri, "cid": cid, "value": value})

    async def _get_posts(self, request: Request, caller: Caller) -> Response:
        posts = []
        for uri in request.query_params.getlist("uris")[:25]:
            parts = uri.removeprefix("at://").split("/")
            found = self.records.get((parts[0], parts[1], parts[2])) if len(parts) == 3 else None
            if found is None:
                continue
            counts = self.counts.get(uri, {})
            posts.append(
                {
                    "uri": uri,
                    "cid": found[0],
                    "record": found[1],
                    "likeCount": counts.get("likes", 0),
                    "repostCount": counts.get("reposts", 0),
                    "replyCount": counts.get("replies", 0),
                    "quoteCount": counts.get("quotes", 0),
                }
            )
        return _json({"posts": posts})

    # --- the video service ------------------------------------------------------------------

    async def _upload_video(self, request: Request, caller: Caller) -> Response:
        token = self.tokens.get(self._bearer(request))
        now = self.clock.now()
        if (
            token is None
            or token.kind != "service"
            or token.aud != _did_web(self.pds_url)
            or token.lxm != "com.atproto.repo.uploadBlob"
            or now >= token.expires
        ):
            return _error(401, "Unauthorized", "invalid service auth token")
        account = self.accounts[token.did]
        if request.query_params.get("did") != account.did:
            return _error(400, "InvalidRequest", "did does not match the token")
        if not account.email_confirmed:
            return _json(
                {"jobStatus": {"did": "", "error": "unconfirmed_email", "jobId": "", "state": ""}}
            )
        data = await request.body()
        for job in self.jobs.values():
            if job.did == account.did and job.data == data:
                return _json(
                    {
                        "did": account.did,
                        "error": "already_exists",
                        "jobId": job.job_id,
                        "message": "Video already processed",
                        "state": "JOB_STATE_COMPLETED",
                    },
                    409,
                )
        job = VideoJob(f"job{next(self._ids)}", account.did, data, now)
        self.jobs[job.job_id] = job
        return _json({"did": account.did, "jobId": job.job_id, "state": "JOB_STATE_CREATED"})

    async def _job_status(self, request: Request, caller: Caller) -> Response:
        job = self.jobs.get(request.query_params.get("jobId", ""))
        if job is None:
            return _error(404, "NotFound", "job not found")
        status: dict[str, Any] = {"jobId": job.job_id, "did": job.did}
        elapsed = (self.clock.now() - job.started).total_seconds()
        if self.video_failure is not None:
            status.update(
                state="JOB_STATE_FAILED",
                error=f"video processing error for job: {job.job_id}",
                failureCode=self.video_failure,
                message="Failed to process video",
            )
        elif elapsed < self.video_processing_s:
            progress = int(100 * elapsed / self.video_processing_s)
            status.update(state="JOB_STATE_ENCODING", progress=progress)
        else:
            if job.blob is None:
                # The service stores the processed video on the account's PDS.
                processed = b"processed:" + job.data
                job.blob = {
                    "$type": "blob",
                    "ref": {"$link": _cid(processed)},
                    "mimeType": "video/mp4",
                    "size": len(processed),
                }
                self.blobs[(job.did, _cid(processed))] = job.blob
            status.update(state="JOB_STATE_COMPLETED", progress=100, blob=job.blob)
        return _json({"jobStatus": status})


# Methods that take no account session (the video service checks its own tokens).
_PUBLIC: Final = frozenset(
    {
        "com.atproto.server.createSession",
        "com.atproto.identity.resolveHandle",
        "com.atproto.repo.getRecord",
    }
)


def _did_web(url: str) -> str:
    return f"did:web:{urlsplit(url).hostname}"


def _tid_micros(key: str) -> int:
    value = 0
    for char in key:
        value = value * 32 + _TID_ALPHABET.index(char)
    return value >> 10


def _tid_now(now: dt.datetime) -> str:
    value = (int(now.timestamp() * 1_000_000) << 10) | secrets.randbelow(1024)
    return "".join(_TID_ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(13)))
