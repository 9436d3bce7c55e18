"""The long-running service: APScheduler jobs per mailbox, for replies and for the daily digest."""

from __future__ import annotations

import datetime as dt
import logging
import signal
import types

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from campaign.notice import LOCAL_TZ, today
from campaign.settings import MailboxSettings
from intake.app import App
from report.digest import catch_up, send_digest

log = logging.getLogger(__name__)
REPLY_SECONDS = 60


def _poll_job(app: App, box: MailboxSettings) -> None:
    try:
        report = app.poller().poll(box)
        log.info("%s: fetched %d %s", box.name, report.fetched, report.statuses)
    except Exception:
        log.exception("%s: poll failed (recorded; the next poll tries again)", box.name)
    app.send_replies()


def _replies_job(app: App) -> None:
    try:
        report = app.send_replies()
        if report.sent or report.retrying or report.given_up:
            log.info("replies: %s", report)
    except Exception:
        log.exception("sending replies failed")


CATCH_UP_MINUTES = 15


def _digest_job(app: App, catch_up_only: bool = False) -> None:
    """The day's digest at its time; with catch_up_only (at start-up, then every CATCH_UP_MINUTES) the last
    due digest if it was missed while the service was down or its try failed, sent marked late."""
    try:
        if catch_up_only:
            done = catch_up(app)
            if done is not None:
                log.info("digest for %s (catch-up): %s", done[0], done[1].value)
        else:
            log.info("digest for %s: %s", today(), send_digest(app, day=today()).value)
    except Exception:
        log.exception("the daily digest failed; it is tried again within %d minutes", CATCH_UP_MINUTES)


def build_scheduler(app: App) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300})
    now = dt.datetime.now()
    for box in app.settings.mailboxes:
        scheduler.add_job(
            _poll_job,
            IntervalTrigger(seconds=box.poll_seconds),
            args=(app, box),
            id=f"poll:{box.name}",
            name=f"poll {box.name}",
            next_run_time=now,
        )
    scheduler.add_job(_replies_job, IntervalTrigger(seconds=REPLY_SECONDS), args=(app,), id="replies")
    t = app.settings.digest.time
    scheduler.add_job(
        _digest_job, CronTrigger(hour=t.hour, minute=t.minute, timezone=LOCAL_TZ), args=(app,), id="digest"
    )
    return scheduler


def run(app: App) -> None:
    """Run until SIGTERM or SIGINT; the message in hand is finished before exiting."""

    def _stop(signum: int, frame: types.FrameType | None) -> None:
        log.info("signal %d: finishing the message in hand, then stopping", signum)
        app.stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    scheduler = build_scheduler(app)
    scheduler.add_job(
        _digest_job,
        IntervalTrigger(minutes=CATCH_UP_MINUTES),
        args=(app, True),
        id="digest-catch-up",
        next_run_time=dt.datetime.now(),
    )  # a day missed while down is sent at start-up, marked late
    scheduler.start()
    log.info("intake running: %d mailbox(es)", len(app.settings.mailboxes))
    app.stop.wait()
    scheduler.shutdown(wait=True)
    log.info("intake stopped")
