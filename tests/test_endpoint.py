"""The one-click endpoint under its real WSGI server (waitress, started by `briefing subscribers
serve` on 127.0.0.1): the POST exactly as Gmail makes it, with the URL taken from a delivered
copy; a GET that changes nothing; `sync`; the next issue skips that reader. And every way in
that must not record: malformed tokens, wrong bodies, methods and paths, big bodies; /events
only with the bearer secret."""

from __future__ import annotations

import json
import re

from endpoint_helpers import (
    ARCHIVE_PAGE,
    ASK_PAGE,
    DONE_PAGE,
    INVALID_PAGE,
    TOKEN_CONFIG,
    add_issue,
    endpoint,
    gmail_one_click,
    keyed,
    minted,
    one_click_path,
    request,
)
from smtp_server import Server

EVENTS = ".briefing/events.jsonl"
SECRET = "s3cret-for-the-events-0123456789"
SECURITY_HEADERS = {
    "cache-control": "no-store",
    "x-robots-tag": "noindex, nofollow",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
}


def readers_project(factory):
    project = factory(config=TOKEN_CONFIG)
    for address in ("two@example.org", "three@example.org"):
        assert project.cli("subscribers", "add", address).code == 0
    result = project.cli("build")
    assert result.code == 0, result.err
    return keyed(project)


BANNER_EVENTS = (f"events:  {EVENTS} (tokens and times only; only tokens the key "
                 ".briefing/endpoint.key checks)")


def send_to(project, server: Server, *args: str):
    result = project.cli("send", *args, "--no-dry-run", "--smtp", server.url, "--insecure",
                         timeout=120)
    assert result.code == 0, result.out + result.err
    return result


def copy_for(server: Server, address: str) -> bytes:
    (data,) = [m.data for m in server.received if m.rcpt_tos == [address]]
    return data


def assert_security_headers(answer) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert answer.headers[name] == value, name
    policy = answer.headers["content-security-policy"]
    assert re.fullmatch(r"default-src 'none'; style-src 'sha256-[A-Za-z0-9+/]+=*'; "
                        r"form-action 'self'; frame-ancestors 'none'; base-uri 'none'", policy)


def test_one_click_from_a_delivered_copy_then_sync_and_the_next_issue_skips_the_reader(
        factory) -> None:
    project = readers_project(factory)
    with Server() as server:
        send_to(project, server)
        copy = copy_for(server, "two@example.org")
    path = one_click_path(copy)
    token = path.removeprefix("/u/")
    assert re.fullmatch(r"[A-Za-z0-9_-]{24}", token)

    with endpoint(project) as served:
        assert served.banner == [
            f"one-click unsubscribe endpoint on {served.url}/u/<token> (waitress; publish it "
            "behind an https proxy)",
            BANNER_EVENTS,
            "/events: off (set $BRIEFING_EVENTS_SECRET to let 'briefing subscribers sync' "
            "fetch the events over https)",
            "Ctrl-C stops it",
        ]
        events = project.root / EVENTS
        assert events.read_bytes() == b""  # made at start, empty, private
        assert events.stat().st_mode & 0o777 == 0o600

        # A mail scanner or a reader's browser follows the link: a page, nothing recorded.
        shown = request(served.port, "GET", path)
        assert shown.status == 200
        assert shown.text == ASK_PAGE
        assert shown.headers["content-type"] == "text/html; charset=utf-8"
        assert_security_headers(shown)
        assert request(served.port, "HEAD", path).body == b""
        assert events.read_bytes() == b""

        clicked = gmail_one_click(served.port, path)
        assert clicked.status == 200  # RFC 8058 §3.2: no redirect
        assert "location" not in clicked.headers
        assert clicked.text == DONE_PAGE
        assert_security_headers(clicked)
        (line,) = events.read_text().splitlines()
        event = json.loads(line)
        assert event == {"time": event["time"], "token": token}  # tokens and times only
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", event["time"])
        # The same click again (Gmail retries) is answered alike and recorded once.
        assert gmail_one_click(served.port, path).text == DONE_PAGE
        assert events.read_text() == line + "\n"

    synced = project.cli("subscribers", "sync")
    assert synced.code == 0, synced.err
    assert synced.out == (
        f"unsubscribed two@example.org (one-click unsubscribe at {event['time']})\n"
        f"synced events {EVENTS}: 1 new event (1 unsubscribed)\n"
        "sync: 1 unsubscribed\n")
    listed = project.cli("subscribers", "list", "--status", "unsubscribed")
    assert listed.out == (f"unsubscribed two@example.org  since {event['time'][:10]}  "
                          f"one-click unsubscribe at {event['time']}\n")

    # The next issue: send syncs first (nothing new), and two@ is not sent to.
    add_issue(project, "2026-W08", "2026-02-20")
    assert project.cli("build", "2026-W08").code == 0
    with Server() as server:
        result = send_to(project, server, "2026-W08")
        assert sorted(r for m in server.received for r in m.rcpt_tos) == [
            "one@example.org", "three@example.org"]
    lines = result.out.splitlines()
    assert lines[:2] == [f"synced events {EVENTS}: 0 new events; 1 seen before",
                         "sync: no reader changed"]
    assert ("recipients: 2: three@example.org, one@example.org (1 subscriber in "
            ".briefing/state.sqlite3, 1 from briefing.yaml; 1 suppressed left out)") in lines


def test_made_up_tokens_are_refused_and_never_recorded(factory) -> None:
    """The endpoint key checks a token without knowing any reader: a made-up or damaged one is
    answered 404 with a page that says so, and nothing is written, however many arrive."""
    project = readers_project(factory)
    events = project.root / EVENTS
    real = minted(project, "two@example.org")
    damaged = real[:-1] + ("A" if real[-1] != "A" else "B")
    with endpoint(project) as served:
        for path in ("/u/not-a-token", "/u/", "/u/%3Cscript%3E", "/u/" + "A" * 25,
                     "/u/" + "Zz" * 12, f"/u/{damaged}", f"/u/{real[:23]}"):
            answer = gmail_one_click(served.port, path)
            assert (answer.status, answer.text) == (404, INVALID_PAGE), path
            shown = request(served.port, "GET", path)
            assert (shown.status, shown.text) == (404, INVALID_PAGE), path
        # A bot posting made-up tokens: none is recorded, and the file cannot grow.
        for n in range(300):
            assert gmail_one_click(served.port, f"/u/{n:024d}").status == 404
        assert events.read_bytes() == b""
        # A real click still goes through.
        assert gmail_one_click(served.port, f"/u/{real}").text == DONE_PAGE
        # A token the list made for an address it does not know (the reader was deleted by
        # hand, say): recorded, and sync reports it once.
        stranger = minted(project, "stranger@example.net")
        assert gmail_one_click(served.port, f"/u/{stranger}").text == DONE_PAGE
    tokens = [json.loads(x)["token"] for x in events.read_text().splitlines()]
    assert tokens == [real, stranger]
    first = project.cli("subscribers", "sync")
    assert first.code == 0, first.err
    assert first.out.splitlines()[1:] == [
        f"{EVENTS}:2:1: warning: token '{stranger}' is no known reader's; nothing changed",
        f"synced events {EVENTS}: 2 new events (1 unsubscribed, 1 unknown token)",
        "sync: 1 unsubscribed"]
    # Reported once, not at every sync.
    assert project.cli("subscribers", "sync").out == (
        f"synced events {EVENTS}: 0 new events; 2 seen before\nsync: no reader changed\n")


def test_the_public_copys_link_has_its_own_page_and_records_nothing(factory) -> None:
    """The archive copy (message.eml, the web edition) links /u/ARCHIVE-COPY-NOT-A-TOKEN:
    anyone may click it; it says what it is and how to unsubscribe, records nothing, and sync
    has nothing to warn about (also for a click an older endpoint recorded)."""
    project = readers_project(factory)
    built = (project.root / "out" / "2026-W07" / "message.eml").read_text()
    assert "https://example.org/u/ARCHIVE-COPY-NOT-A-TOKEN" in built
    with endpoint(project) as served:
        for method in ("GET", "POST"):
            answer = request(served.port, method, "/u/ARCHIVE-COPY-NOT-A-TOKEN",
                             b"List-Unsubscribe=One-Click" if method == "POST" else None,
                             {"Content-Type": "application/x-www-form-urlencoded"})
            assert (answer.status, answer.text) == (200, ARCHIVE_PAGE)
            assert_security_headers(answer)
    assert (project.root / EVENTS).read_bytes() == b""
    (project.root / EVENTS).write_text(
        '{"time": "2026-02-16T09:00:00Z", "token": "ARCHIVE-COPY-NOT-A-TOKEN"}\n')
    synced = project.cli("subscribers", "sync")
    assert synced.out == (f"synced events {EVENTS}: 1 new event (1 from the public copy)\n"
                          "sync: no reader changed\n")


def test_wrong_bodies_methods_paths_and_big_bodies_are_refused(factory) -> None:
    project = readers_project(factory)
    token = minted(project, "two@example.org")
    with endpoint(project) as served:
        port = served.port
        wrong = request(port, "POST", f"/u/{token}", b"List-Unsubscribe=Yes",
                        {"Content-Type": "application/x-www-form-urlencoded"})
        assert wrong.status == 400
        assert "one-click unsubscribe requests (RFC 8058) only" in wrong.text
        empty = request(port, "POST", f"/u/{token}", b"")
        assert empty.status == 400

        put = request(port, "PUT", f"/u/{token}", b"List-Unsubscribe=One-Click")
        assert (put.status, put.headers["allow"], put.text) == (
            405, "GET, HEAD, POST", "method not allowed\n")
        for path in ("/", "/u", f"/u/{token}/", "/unsubscribe", "/events", "/.briefing/"
                     "events.jsonl", "/../briefing.yaml"):
            answer = request(port, "GET", path)
            assert (answer.status, answer.text) == (404, "not found\n"), path

        big = request(port, "POST", f"/u/{token}", b"List-Unsubscribe=One-Click&" + b"x" * 5000,
                      {"Content-Type": "application/x-www-form-urlencoded"})
        assert big.status == 413
        assert big.text == ("Request Entity Too Large\r\n\r\nexceeds max_body of 4096\r\n\r\n"
                            "(generated by briefing)")  # waitress's own answer
        # Still up, and nothing of all that was recorded.
        assert request(port, "GET", f"/u/{token}").status == 200
    assert (project.root / EVENTS).read_bytes() == b""


def test_one_click_as_multipart_form_data(factory) -> None:
    """RFC 8058 §3.2: the POST SHOULD be multipart/form-data (Gmail sends the url-encoded
    form); both are accepted."""
    project = readers_project(factory)
    token = minted(project, "three@example.org")
    body = (b"--XyZ\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\n"
            b"One-Click\r\n--XyZ--\r\n")
    with endpoint(project) as served:
        answer = request(served.port, "POST", f"/u/{token}", body,
                         {"Content-Type": "multipart/form-data; boundary=XyZ"})
        assert (answer.status, answer.text) == (200, DONE_PAGE)
    (line,) = (project.root / EVENTS).read_text().splitlines()
    assert json.loads(line)["token"] == token


def test_events_only_with_the_bearer_secret_and_sync_reads_them_over_http(factory) -> None:
    project = readers_project(factory)
    with Server() as server:
        send_to(project, server)
        path = one_click_path(copy_for(server, "three@example.org"))
    env = {"BRIEFING_EVENTS_SECRET": SECRET}
    with endpoint(project, env=env) as served:
        assert served.banner[2] == ("/events: on, for a caller with the bearer secret in "
                                    "$BRIEFING_EVENTS_SECRET")
        assert gmail_one_click(served.port, path).status == 200
        recorded = (project.root / EVENTS).read_bytes()
        assert recorded.count(b"\n") == 1

        for headers in ({}, {"Authorization": f"Bearer {SECRET}x"}, {"Authorization": SECRET},
                        {"Authorization": f"Basic {SECRET}"}, {"Cookie": f"secret={SECRET}"}):
            refused = request(served.port, "GET", "/events", headers=headers)
            assert (refused.status, refused.text) == (401, "a bearer secret is needed\n")
            assert refused.headers["www-authenticate"] == 'Bearer realm="briefing events"'
        given = request(served.port, "GET", "/events",
                        headers={"Authorization": f"Bearer {SECRET}"})
        assert (given.status, given.body) == (200, recorded)
        assert given.headers["content-type"] == "application/x-ndjson; charset=utf-8"
        assert given.headers["cache-control"] == "no-store"

        url = f"{served.url}/events"
        without = project.cli("subscribers", "sync", "--events", url)
        assert (without.code, without.out) == (1, "")
        assert without.err == (
            f"$BRIEFING_EVENTS_SECRET: error: is not set; it holds the bearer secret for {url} "
            "(set it to the secret the endpoint was started with)\n")
        wrong = project.cli("subscribers", "sync", "--events", url,
                            env={"BRIEFING_EVENTS_SECRET": "not-the-secret-0000"})
        assert (wrong.code, wrong.out) == (1, "")
        assert wrong.err == (f"{url}: error: answered 401 Unauthorized (the endpoint refused "
                             "the secret in $BRIEFING_EVENTS_SECRET)\n")
        synced = project.cli("subscribers", "sync", "--events", url, env=env)
    assert synced.code == 0, synced.err
    when = json.loads(recorded)["time"]
    assert synced.out == (f"unsubscribed three@example.org (one-click unsubscribe at {when})\n"
                          f"synced events {url}: 1 new event (1 unsubscribed)\n"
                          "sync: 1 unsubscribed\n")


def test_events_url_must_be_https_except_on_this_machine(factory) -> None:
    project = readers_project(factory)
    result = project.cli("subscribers", "sync", "--events", "http://news.example.org/events")
    assert (result.code, result.out) == (1, "")
    assert result.err == ("--events: error: 'http://news.example.org/events' must be an https "
                          "URL (the bearer secret travels with it) (http:// is accepted only "
                          "for 127.0.0.1)\n")


def test_serve_keeps_the_events_private_and_wants_a_long_secret(factory) -> None:
    project = readers_project(factory)
    under_out = project.cli("subscribers", "serve", "--events", "out/events.jsonl")
    assert (under_out.code, under_out.out) == (1, "")
    assert under_out.err == ("--events: error: the events file must not be under out/, which "
                             "is published as is (keep it in .briefing/, which is private)\n")
    short = project.cli("subscribers", "serve", "--port", "0",
                        env={"BRIEFING_EVENTS_SECRET": "short"})
    assert (short.code, short.out) == (1, "")
    assert short.err == ("$BRIEFING_EVENTS_SECRET: error: is shorter than 16 characters (use a "
                         "long random value, e.g. from 'openssl rand -hex 32')\n")


def raw_exchange(port: int, data: bytes) -> bytes:
    """Bytes as they are on one connection; the first line of the answer (or what happened)."""
    import socket
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        answer = b""
        try:
            connection.sendall(data)
            while chunk := connection.recv(65536):
                answer += chunk
        except (ConnectionResetError, BrokenPipeError) as exc:
            return repr(exc).encode()
    return answer.split(b"\r\n", 1)[0]


def test_hostile_requests_never_take_the_server_down(factory) -> None:
    project = readers_project(factory)
    token = minted(project, "two@example.org").encode()
    head = b"POST /u/" + token + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
    with endpoint(project) as served:
        cases = {
            head + b"Content-Length: abc\r\n\r\n": b"HTTP/1.1 400 Bad Request",
            head + b"Content-Length: -5\r\n\r\n": b"HTTP/1.1 400 Bad Request",
            head + b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 4\r\n"
                   b"\r\n\xff\xfe\xfd\xfc": b"HTTP/1.1 400 Bad Request",
            head + b"Content-Type: multipart/form-data\r\nContent-Length: 10\r\n\r\n0123456789":
                b"HTTP/1.1 400 Bad Request",
            head + b"Content-Type: multipart/form-data; boundary=\"\r\nContent-Length: 12\r\n"
                   b"\r\n--\r\n--\r\n\r\n\r\n": b"HTTP/1.1 400 Bad Request",
            b"GET /events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xff\xfe\r\n"
            b"Connection: close\r\n\r\n": b"HTTP/1.1 404 Not Found",  # no secret: no /events
            b"GET /u/%ff%fe%00 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n":
                b"HTTP/1.1 404 Not Found",
            b"FOO /u/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n":
                b"HTTP/1.1 405 Method Not Allowed",
            b"\x00\x01\x02 garbage\r\n\r\n": b"HTTP/1.0 400 Bad Request",
            # Chunked: waitress joins the chunks; a one-click body so sent counts.
            head + b"Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: "
                   b"chunked\r\n\r\n1a\r\nList-Unsubscribe=One-Click\r\n0\r\n\r\n":
                b"HTTP/1.1 200 OK",
            # Too big: refused; the answer may lose the race with the reset of the socket
            # that the client is still writing to.
            head + b"Transfer-Encoding: chunked\r\n\r\n" + (b"1000\r\n" + b"x" * 4096 + b"\r\n")
            * 2 + b"0\r\n\r\n": (b"HTTP/1.1 413 Request Entity Too Large",
                                 b"ConnectionResetError(104, 'Connection reset by peer')"),
        }
        for data, expected in cases.items():
            got = raw_exchange(served.port, data)
            assert got in expected if isinstance(expected, tuple) else got == expected, \
                data[:80]
        assert request(served.port, "GET", f"/u/{token.decode()}").text == ASK_PAGE  # still up
    lines = (project.root / EVENTS).read_text().splitlines()
    assert [json.loads(line)["token"] for line in lines] == [token.decode()]


def test_simultaneous_clicks_are_each_written_whole(factory) -> None:
    """Four server threads append at once: every line whole, none lost (lock, O_APPEND,
    fsync)."""
    from concurrent.futures import ThreadPoolExecutor
    project = readers_project(factory)
    tokens = [minted(project, f"reader{n}@example.org") for n in range(60)]
    with endpoint(project) as served, ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda t: gmail_one_click(served.port, f"/u/{t}"), tokens))
    assert {(a.status, a.text) for a in answers} == {(200, DONE_PAGE)}
    lines = (project.root / EVENTS).read_text().splitlines()
    assert sorted(json.loads(line)["token"] for line in lines) == sorted(tokens)


def checked_token(check: bytes, reader: bytes) -> str:
    """A token as docs/subscribers.md defines its check: 12 bytes, then 6 bytes of
    HMAC-SHA256(check key, those 12), in base64url."""
    import base64
    import hashlib
    import hmac
    return base64.urlsafe_b64encode(
        reader + hmac.new(check, reader, hashlib.sha256).digest()[:6]).decode()


def test_the_app_deployed_under_another_wsgi_server(tmp_path) -> None:
    """make_app() is importable and guards itself (body size, methods, the token check) under
    any WSGI server; here the stdlib's, on 127.0.0.1, with an endpoint key written by hand."""
    import base64
    import threading
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    from briefing.subscribers.endpoint import make_app

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    check = bytes(range(32))
    events = tmp_path / "private" / "events.jsonl"
    key = tmp_path / "endpoint.key"
    key.write_text(f"check {base64.urlsafe_b64encode(check).decode()}\n")
    token = checked_token(check, b"reader-12byt")
    server = make_server("127.0.0.1", 0, make_app(events, key, newsletter="Test Briefing"),
                         handler_class=Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_port
        big = request(port, "POST", f"/u/{token}", b"List-Unsubscribe=One-Click&" +
                      b"x" * 5000, {"Content-Type": "application/x-www-form-urlencoded"})
        assert (big.status, big.text) == (413, "request body too large\n")
        assert gmail_one_click(port, f"/u/{token}").text == DONE_PAGE
        assert gmail_one_click(port, "/u/" + checked_token(b"x" * 32, b"reader-12byt")
                               ).status == 404
        assert request(port, "DELETE", f"/u/{token}").status == 405
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert json.loads(events.read_text())["token"] == token
    assert events.stat().st_mode & 0o777 == 0o600
    assert events.parent.stat().st_mode & 0o777 == 0o700


def test_the_endpoint_host_needs_only_the_endpoint_key(factory, tmp_path) -> None:
    """On a host of its own the endpoint needs no briefing.yaml, no store and no token key:
    only .briefing/endpoint.key, copied from the editor's project, which checks tokens but
    cannot make one."""
    import shutil

    from conftest import ProjectFactory
    project = readers_project(factory)
    token = minted(project, "two@example.org")
    bare = ProjectFactory(tmp_path / "endpoint-host")
    bare.root.mkdir()
    refused = bare.cli("subscribers", "serve", "--port", "0")
    assert (refused.code, refused.out) == (1, "")
    assert refused.err == (
        ".briefing/endpoint.key: error: no endpoint key: without it the endpoint cannot tell "
        "real unsubscribe links from made-up ones (the first send (or 'briefing subscribers "
        "endpoint-key') writes .briefing/endpoint.key in the editor's project; copy it here "
        "(or pass --key FILE))\n")
    (bare.root / ".briefing").mkdir(mode=0o700)
    shutil.copy(project.root / ".briefing" / "endpoint.key", bare.root / ".briefing")
    text = (bare.root / ".briefing" / "endpoint.key").read_text()
    assert project.root.name not in text and "two@example.org" not in text
    with endpoint(bare) as served:
        assert served.banner[1] == BANNER_EVENTS
        shown = request(served.port, "GET", f"/u/{token}").text
        assert shown == ASK_PAGE.replace("Test Briefing", "this newsletter")
        assert gmail_one_click(served.port, f"/u/{token}").text == DONE_PAGE.replace(
            "Test Briefing", "this newsletter")
    assert sorted(p.name for p in bare.root.rglob("*")) == [".briefing", "endpoint.key",
                                                            "events.jsonl"]


def test_a_click_that_cannot_be_recorded_is_not_answered_as_done(factory) -> None:
    """Past 64 MB (here a sparse file) the endpoint refuses to grow the file: 503 and
    Retry-After, the reason on stderr, and the file as it was."""
    import os
    project = readers_project(factory)
    events = project.root / EVENTS
    events.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with open(events, "wb") as handle:
        handle.truncate(64 * 1024 * 1024 + 1)
    os.chmod(events, 0o600)
    with endpoint(project) as served:
        answer = gmail_one_click(served.port, "/u/" + minted(project, "two@example.org"))
        assert (answer.status, answer.headers["retry-after"]) == (503, "300")
        assert "<h1>Please try again later</h1>" in answer.text
    assert events.stat().st_size == 64 * 1024 * 1024 + 1
    assert served.stderr == (f"briefing endpoint: cannot record an unsubscribe: "
                             f"{events} is over 67108864 bytes: sync and rotate it\n")


def test_idle_connections_never_keep_a_real_click_waiting(factory) -> None:
    """200 connections held open without a request (waitress alone kept the next one waiting
    about a minute), then more than the server keeps open at once: a real one-click POST is
    still answered within 2 seconds, and recorded."""
    import http.client
    import socket
    import time

    project = readers_project(factory)
    token = minted(project, "two@example.org")
    held: list[socket.socket] = []
    try:
        with endpoint(project) as served:
            for count in (200, 700):  # 700: past the server's 500, so the oldest are closed
                while len(held) < count:
                    held.append(socket.create_connection(("127.0.0.1", served.port)))
                    if len(held) % 2:  # half of them start a request and never finish it
                        held[-1].sendall(b"POST /u/" + token.encode() + b" HTTP/1.1\r\n")
                time.sleep(0.5)  # let the server accept them all
                started = time.monotonic()
                connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=2)
                connection.request("POST", f"/u/{token}", b"List-Unsubscribe=One-Click",
                                   {"Content-Type": "application/x-www-form-urlencoded"})
                answer = connection.getresponse()
                assert (answer.status, answer.read().decode()) == (200, DONE_PAGE)
                connection.close()
                assert time.monotonic() - started < 2
    finally:
        for sock in held:
            sock.close()
    (line,) = (project.root / EVENTS).read_text().splitlines()
    assert json.loads(line)["token"] == token
