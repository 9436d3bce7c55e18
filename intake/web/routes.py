"""The workbench as an ASGI application: its routes, middleware and error pages, built from a Site."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from intake.app import App
from intake.web import actions, auth, downloads, files, views
from intake.web.session import Cookies, load_key
from intake.web.site import LoginNeeded, Site, VisitMiddleware, environment, http_error, login_needed
from intake.web.throttle import Throttle
from intake.web.thumbs import Thumbnails

STATIC = Path(__file__).with_name("static")


def key_path(app: App) -> Path:
    web = app.settings.web
    return web.secret_file or app.settings.store.blob_dir.parent / "web-secret"


def make_site(app: App, *, secure_cookies: bool = False) -> Site:
    return Site(
        app=app,
        cookies=Cookies(
            key=load_key(key_path(app)),
            max_age_seconds=app.settings.web.session_hours * 3600,
            secure=secure_cookies,
        ),
        throttle=Throttle(),
        env=environment(),
        thumbs=Thumbnails(),
    )


def make_asgi(site: Site) -> Starlette:
    routes = [
        Route("/", views.overview),
        Route("/login", auth.login_page, methods=["GET"]),
        Route("/login", auth.login, methods=["POST"]),
        Route("/logout", auth.logout, methods=["POST"]),
        Route("/collections/{kind}", views.collection),
        Route("/collections/{kind}/package.zip", downloads.collection_package),
        Route("/province/package.zip", downloads.province_package),
        Route("/works/{id:int}", views.work),
        Route("/works/{id:int}/decide", actions.decide, methods=["POST"]),
        Route("/works/{id:int}/select", actions.select, methods=["POST"]),
        Route("/units", views.units),
        Route("/province", views.province),
        Route("/files/{id:int}", files.serve),
        Route("/thumbs/{id:int}", files.thumbnail),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
    asgi = Starlette(
        routes=routes,
        middleware=[Middleware(VisitMiddleware, site=site)],
        exception_handlers={LoginNeeded: login_needed, HTTPException: http_error},
    )
    asgi.state.site = site
    return asgi
