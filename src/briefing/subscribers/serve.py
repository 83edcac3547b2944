"""`briefing subscribers serve`: the endpoint (subscribers/endpoint.py) under waitress, with
connections that idle clients cannot use up.

waitress stops accepting at its connection limit, and closes an idle connection only after its
timeout: 200 connections held open without a request kept a real one-click POST waiting about a
minute, and a client that keeps them open for ever would keep it waiting for ever. Here the
server always accepts; past MAX_CONNECTIONS it closes the connection that has waited longest
without sending a whole request. A real POST is sent in one go and answered in milliseconds, so
it is never the one closed.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import BriefingError, Problem
from .endpoint import DEFAULT_EVENTS, MAX_BODY, SECRET_ENV, WSGIApp, make_app
from .identity import ENDPOINT_KEY_FILE, EndpointKey, read_endpoint_key

if TYPE_CHECKING:
    from ..content.model import Config
    from ..content.validate import Project
    from .signup_site import MakeSender

MAX_CONNECTIONS = 500  # open at once; well below the usual 1,024 file descriptors
IDLE_TIMEOUT = 15      # seconds a connection may stay open without a request


def serve_project(project: Project, host: str, port: int, events: str | None,
                  key: str | None, on_ready: Callable[[list[str]], None],
                  make_sender: MakeSender | None = None, proxy: str | None = None) -> None:
    """The endpoint for this project under waitress, until Ctrl-C or SIGTERM. briefing.yaml
    is optional: an endpoint host may have only the endpoint key. With its `signup:`, the
    sign-up pages too, mailing through `make_sender`'s transport (deliver/ is to the left of
    this layer: the command hands it over)."""
    from ..content.schema import check_state_path
    from ..content.validate import load_config

    config = load_config(project) if project.config_path.is_file() else None
    secret_env = config.sync.events_secret_env if config else SECRET_ENV
    where = "--events"
    if events is None:
        configured = config.sync.events if config else ""
        events, where = ((configured, "briefing.yaml sync.events")
                         if configured and "://" not in configured else (DEFAULT_EVENTS, ""))
    if "://" in events:
        raise BriefingError(Problem(where, 0, 0, f"'{events}' is a URL; the endpoint writes "
                                    "its events to a file", f"for example {DEFAULT_EVENTS}"))
    try:  # private like the store: inside the project, never under the published out/
        check_state_path(events)
    except ValueError as exc:
        message, _, hint = str(exc).partition("|")
        raise BriefingError(Problem(where or events, 0, 0, f"the events file {message}",
                                    hint)) from None
    endpoint_key = _key(project, config, key)
    pages = None
    if config is not None and config.signup is not None:
        from .signup_site import SignupPages
        pages = SignupPages(config, make_sender)  # its transport, checked now
    try:
        themes = config.themes if config is not None and config.preferences else ()
        app = make_app(project.root / events, endpoint_key, secret_env,
                       config.name if config else "", themes, signup=pages)
    except ValueError as exc:
        raise BriefingError(Problem(f"${secret_env}", 0, 0, str(exc).split(" ", 1)[1],
                                    "use a long random value, e.g. from 'openssl rand -hex "
                                    "32'")) from None
    except OSError as exc:
        raise BriefingError(Problem(events, 0, 0, f"cannot create the events file: "
                                    f"{exc.strerror}")) from None
    secret_on = bool(os.environ.get(secret_env))

    def ready(bound_host: str, bound_port: int) -> None:
        shown_host = f"[{bound_host}]" if ":" in bound_host else bound_host
        on_ready([
            f"one-click unsubscribe endpoint on http://{shown_host}:{bound_port}/u/<token> "
            "(waitress; publish it behind an https proxy)",
            f"events:  {events} (tokens and times only; only tokens the key "
            f"{key or ENDPOINT_KEY_FILE} checks)",
            f"/events: on, for a caller with the bearer secret in ${secret_env}" if secret_on
            else f"/events: off (set ${secret_env} to let 'briefing subscribers sync' fetch "
                 "the events over https)",
            *([f"preferences: /p/<token>, the {len(themes)} themes of briefing.yaml"]
              if themes else []),
            *([pages.describe(f"http://{shown_host}:{bound_port}")] if pages else []),
            "Ctrl-C stops it",
        ])

    try:
        serve(app, host, port, ready, proxy=proxy)
    except OSError as exc:
        raise BriefingError(Problem("serve", 0, 0, f"cannot listen on {host}:{port}: "
                                    f"{exc.strerror or exc}")) from None
    finally:
        if pages is not None:
            pages.close()  # the confirmation mails already promised go out first


def _key(project: Project, config: Config | None, given: str | None) -> EndpointKey:
    """The endpoint key: --key, else .briefing/endpoint.key, written first from the token key
    when this is the editor's project (never a new token key: on another host that would make
    an endpoint that refuses every real link)."""
    if given is not None:
        return read_endpoint_key(project.root / given, given)
    if config is not None:
        from .identity import list_tokens
        from .manage import open_store
        from .tokens import read_key
        if read_key(project.root) is not None:
            _config, store = open_store(project)
            try:
                list_tokens(project.root, store, config, create=False)  # writes the file
            finally:
                store.close()
    return read_endpoint_key(project.root / ENDPOINT_KEY_FILE, ENDPOINT_KEY_FILE)


def serve(app: WSGIApp, host: str, port: int, on_ready: Callable[[str, int], None],
          max_connections: int = MAX_CONNECTIONS, proxy: str | None = None) -> None:
    """Run the app under waitress until Ctrl-C or SIGTERM. Imported only here: waitress
    costs nothing to commands that do not serve. With `proxy` (the address of the reverse
    proxy in front), the client's address is the last one its X-Forwarded-For adds, and from
    nobody else (signup.record_ip hashes it)."""
    import signal

    from waitress import create_server
    from waitress.server import BaseWSGIServer

    server = create_server(
        app, host=host, port=port, threads=4, ident="briefing",
        # waitress refuses bodies past this itself (413), before the app reads a byte.
        max_request_body_size=MAX_BODY, max_request_header_size=16 * 1024,
        expose_tracebacks=False, channel_timeout=IDLE_TIMEOUT,
        # waitress's own limit stops accepting; ours (below) makes room instead.
        connection_limit=max_connections * 4, clear_untrusted_proxy_headers=True,
        **({"trusted_proxy": proxy, "trusted_proxy_count": 1,
            "trusted_proxy_headers": {"x-forwarded-for"}} if proxy else {}))
    channel = _guarded_channel(max_connections)
    listeners = [server] if isinstance(server, BaseWSGIServer) else [
        s for s in getattr(server, "map", {}).values() if isinstance(s, BaseWSGIServer)]
    for listener in listeners:
        listener.channel_class = channel

    def stop(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        # One listening socket has effective_host/port; a name with several addresses
        # (localhost: 127.0.0.1 and ::1) gives a server listing them all.
        listen = getattr(server, "effective_listen", None) or [
            (server.effective_host, server.effective_port)]
        on_ready(str(listen[0][0]), int(listen[0][1]))
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.close()


def _guarded_channel(limit: int) -> type:
    """waitress's HTTPChannel that, once `limit` connections are open, closes the one that
    has waited longest without a whole request (and is not being answered)."""
    from waitress.channel import HTTPChannel

    class GuardedChannel(HTTPChannel):
        def __init__(self, server: Any, sock: Any, addr: Any, adj: Any,
                     map: dict[int, Any] | None = None) -> None:
            super().__init__(server, sock, addr, adj, map)
            channels = [c for c in (map or {}).values() if isinstance(c, HTTPChannel)]
            if len(channels) <= limit:
                return
            idle = [c for c in channels if c is not self and not c.requests
                    and not c.total_outbufs_len and not c.will_close]
            if idle:
                oldest = min(idle, key=lambda c: c.creation_time)
                oldest.will_close = True  # closed by the server loop at its next turn

    return GuardedChannel
