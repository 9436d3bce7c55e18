"""`intake web`: the hosts' workbench, served by uvicorn where `[web] listen` (or --listen) says."""

from __future__ import annotations

import socket

import click

from intake.cli.base import Context, cli, fail, pass_ctx


@cli.command()
@click.option("--listen", metavar="HOST:PORT", help="Where to listen (default: [web] listen, else 127.0.0.1:8080).")
@click.option("--secure-cookies", is_flag=True, help="Mark the session cookie Secure (behind an HTTPS reverse proxy).")
@pass_ctx
def web(ctx: Context, listen: str | None, secure_cookies: bool) -> None:
    """Serve the workbench: the hosts log in to see the works, overrule, select and download.

    Accounts are made with `intake users add`. Put it behind a reverse proxy with HTTPS for use
    beyond this machine.
    """
    import uvicorn

    from intake.config import parse_listen
    from intake.web.routes import make_asgi, make_site

    host, port = ctx.settings.web.host, ctx.settings.web.port
    if listen:
        try:
            host, port = parse_listen(listen)
        except ValueError as exc:
            fail(f"--listen: {exc}")
    app = ctx.app()
    asgi = make_asgi(make_site(app, secure_cookies=secure_cookies))
    sock = _bound(host, port)
    click.echo(f"workbench on http://{host}:{port}/ (Ctrl+C stops it)")
    config = uvicorn.Config(asgi, host=host, port=port, log_level="warning", proxy_headers=True, server_header=False)
    uvicorn.Server(config).run(sockets=[sock])


def _bound(host: str, port: int) -> socket.socket:
    """The listening address taken before the server starts, so that a port in use is one line."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        why = exc.strerror or str(exc)
        fail(f"cannot listen on {host}:{port}: {why} (choose another address with --listen or [web] listen)")
    return sock
