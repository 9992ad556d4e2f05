"""The fake's posts: POST /2/tweets, GET /2/tweets/:id, GET /2/users/:id/tweets.
https://docs.x.com/x-api/posts/creation-of-a-post and the timelines reference"""

from __future__ import annotations

import datetime as dt
import html
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from onthedot.networks._links import url_spans
from onthedot.sandbox.fakes.x.state import DAY, Tweet, XFake, invalid, iso, problem

DUPLICATE: Final = "You are not allowed to create a Tweet with duplicate content."
SUSPENDED: Final = "Your account is suspended and is not permitted to access this feature."
TCO_LENGTH: Final = 23


async def create_tweet(fake: XFake, request: Request) -> Response:
    token, headers, refused = fake.authorised(request, "tweets.create")
    if refused is not None or token is None:
        return refused or problem(401, "Unauthorized", "Unauthorized")
    user = fake.users[token.user_id]
    if user.suspended:
        return problem(403, "Forbidden", SUSPENDED)
    user_day, user_over = fake.day(user.id, fake.user_daily_cap, "x-user-limit-24hour")
    app_day, app_over = fake.day("app", fake.app_daily_cap, "x-app-limit-24hour")
    headers = {**headers, **user_day, **app_day}
    if user_over or app_over:
        response = problem(429, "Too Many Requests", "Too Many Requests")
        response.headers.update(headers)
        return response
    body = await request.json()
    text = body.get("text") or ""
    media_ids = list((body.get("media") or {}).get("media_ids") or [])
    reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
    if not text and not media_ids:
        return invalid("Post text or media is required.")
    for media_id in media_ids:
        media = fake.media.get(media_id)
        if media is None or media.owner != user.id or not fake.media_ready(media):
            return invalid("Your media IDs are invalid.")
    if reply_to is not None and not any(t.id == reply_to for t in fake.tweets):
        return problem(
            403,
            "Forbidden",
            "You attempted to reply to a Tweet that is deleted or not visible to you.",
        )
    for when, status, detail in fake.rejections:
        if when(text):
            return problem(status, "Forbidden", detail)
    recent = fake.clock.now() - DAY
    if text and any(
        t.author_id == user.id and t.text == text and t.created_at >= recent for t in fake.tweets
    ):
        return problem(403, "Forbidden", DUPLICATE)
    tweet = Tweet(fake.next_id(), user.id, text, fake.clock.now(), reply_to, media_ids)
    fake.tweets.append(tweet)
    return JSONResponse(
        {"data": {"id": tweet.id, "text": text, "edit_history_tweet_ids": [tweet.id]}},
        status_code=201,
        headers=headers,
    )


def shown(fake: XFake, tweet: Tweet) -> dict[str, Any]:
    """A post as X's read endpoints show it."""
    text = tweet.text
    for start, end in reversed(url_spans(text)):
        text = text[:start] + "https://t.co/" + "x" * (TCO_LENGTH - 13) + text[end:]
    text = html.escape(text, quote=False)
    if tweet.media_ids:
        text = f"{text} https://t.co/{'m' * (TCO_LENGTH - 13)}".strip()
    shown: dict[str, Any] = {
        "id": tweet.id,
        "text": text,
        "created_at": iso(tweet.created_at),
        "author_id": tweet.author_id,
        "edit_history_tweet_ids": [tweet.id],
    }
    if len(tweet.text) > 280:
        shown["text"] = text[:280] + "…"
        shown["note_tweet"] = {"text": html.escape(tweet.text, quote=False)}
    if tweet.reply_to is not None:
        shown["referenced_tweets"] = [{"type": "replied_to", "id": tweet.reply_to}]
    return shown


async def lookup(fake: XFake, request: Request) -> Response:
    token, headers, refused = fake.authorised(request, "tweets.lookup")
    if refused is not None or token is None:
        return refused or problem(401, "Unauthorized", "Unauthorized")
    tweet_id = request.path_params["id"]
    tweet = next((t for t in fake.tweets if t.id == tweet_id), None)
    if tweet is None:
        # X answers 200 with the problem in `errors` for a post that is gone.
        return JSONResponse(
            {
                "errors": [
                    {
                        "value": tweet_id,
                        "detail": f"Could not find tweet with id: [{tweet_id}].",
                        "title": "Not Found Error",
                        "resource_type": "tweet",
                        "parameter": "id",
                        "resource_id": tweet_id,
                        "type": "https://api.x.com/2/problems/resource-not-found",
                    }
                ]
            },
            headers=headers,
        )
    data = shown(fake, tweet)
    if "public_metrics" in request.query_params.get("tweet.fields", ""):
        data["public_metrics"] = {
            "retweet_count": tweet.retweets,
            "reply_count": tweet.replies,
            "like_count": tweet.likes,
            "quote_count": tweet.quotes,
            "bookmark_count": 0,
            "impression_count": tweet.impressions,
        }
    return JSONResponse({"data": data}, headers=headers)


async def timeline(fake: XFake, request: Request) -> Response:
    token, headers, refused = fake.authorised(request, "users.tweets")
    if refused is not None or token is None:
        return refused or problem(401, "Unauthorized", "Unauthorized")
    q = request.query_params
    try:
        size = int(q.get("max_results", "10"))
    except ValueError:
        size = 0
    if not 5 <= size <= 100:
        return invalid("The `max_results` query parameter value is not between 5 and 100")
    start = q.get("start_time")
    since = dt.datetime.fromisoformat(start.replace("Z", "+00:00")) if start else None
    posts = [
        t
        for t in reversed(fake.tweets)
        if t.author_id == request.path_params["id"] and (since is None or t.created_at >= since)
    ]
    offset = int(q.get("pagination_token") or 0)
    page = posts[offset : offset + size]
    meta: dict[str, Any] = {"result_count": len(page)}
    if page:
        meta.update(newest_id=page[0].id, oldest_id=page[-1].id)
    if offset + size < len(posts):
        meta["next_token"] = str(offset + size)
    body: dict[str, Any] = {"meta": meta}
    if page:
        body["data"] = [shown(fake, t) for t in page]
    return JSONResponse(body, headers=headers)
