"""The long-running service: APScheduler jobs per mailbox, for the heartbeat, replies and the daily digest.

Every worker beats (its row in `workers`) and keeps the locks it wins: a mailbox is polled by the
worker holding its lock, and the worker holding `leader` sends the replies and the digest. A lock is
freed when its holder stops or dies, and another worker takes it at its next try. Each job catches
its own failure and logs it in one line (a traceback once per distinct unexpected error, or always
with -vv); a failing mailbox is tried again after a backoff that doubles up to a cap.

For each mailbox it holds, the worker keeps an IDLE watcher (`ingest.fetch.idle`) where the server
offers IDLE: new mail runs the mailbox's poll job at once (one job at a time: mail announced while
it polls gives one more poll after it), and the scheduled poll stays the fallback.
"""

from __future__ import annotations

import datetime as dt
import imaplib
import logging
import signal
import threading
import types

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.exc import SQLAlchemyError

from campaign.notice import LOCAL_TZ, today
from campaign.settings import MailboxSettings, MissingSecret
from ingest.fetch.idle import IdleWatchers
from intake.app import App
from report.digest import catch_up, send_digest
from store.errors import one_line
from store.models import MailboxState, utcnow

log = logging.getLogger(__name__)
LEADER = "leader"
CATCH_UP_MINUTES = 15
EXPECTED = (OSError, imaplib.IMAP4.error, MissingSecret, SQLAlchemyError)


class Worker:
    """One `intake run` process: its jobs, its locks, and whether it leads."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.scheduler: BackgroundScheduler | None = None
        self.leader = False
        self._seen: set[tuple[str, str]] = set()
        self._guard = threading.Lock()
        self._sending = threading.Lock()  # one sender at a time: at most one reply in flight
        self._polling: set[str] = set()  # mailboxes whose poll job runs (until the scheduler has counted it done)
        self._again: set[str] = set()  # mailboxes with new mail announced while their poll ran
        self.watchers = IdleWatchers(service=app.settings.service, on_new=self.wake)

    def failed(self, what: str, exc: BaseException) -> None:
        """One line per failure; a traceback once per distinct unexpected error (every time with -v).

        Nothing once the store is gone: its one line was said (`store_lost`)."""
        if self.gone():
            return
        key = (type(exc).__name__, str(exc))
        with self._guard:
            first = key not in self._seen
            self._seen.add(key)
        show = first and not isinstance(exc, EXPECTED)  # -v shows every traceback (the log formatter)
        log.error("%s: %s", what, one_line(exc), exc_info=exc, extra={"traceback": show, "described": True})

    def gone(self) -> bool:
        """Whether the store's file was deleted or replaced: then no unit of work starts (checked now)."""
        return self.app.store_gone() is not None

    def beat(self) -> None:
        """Heartbeat; the leading role and the mailboxes for whoever can take them (a mailbox just taken
        over from a dead worker is polled at once)."""
        app = self.app
        if self.gone():  # checked on every beat: a store that vanishes is noticed even when no mail comes
            return
        try:
            was = self.leader
            self.leader = app.locks.try_lock(LEADER)
            held = set(app.locks.held())
            for box in app.settings.mailboxes:
                lock = f"mailbox:{box.name}"
                if app.stop.is_set():
                    break
                if app.locks.try_lock(lock):  # a lock held is confirmed (SQLite: the lease still names us)
                    if lock not in held:
                        log.info("worker %s polls %s", app.heart.id, box.name)
                        if self.scheduler is not None:
                            self.scheduler.modify_job(f"poll:{box.name}", next_run_time=dt.datetime.now())
                elif lock in held:
                    log.warning("worker %s lost the lock of %s to %s", app.heart.id, box.name, app.holder(lock))
            now_held = app.locks.held()
            if self.scheduler is not None and not app.stop.is_set():
                self.watchers.sync(b for b in app.settings.mailboxes if f"mailbox:{b.name}" in now_held)
            app.heart.beat(" ".join(now_held))
            if self.leader and not was:
                log.info("worker %s leads: it sends the replies and the digest", app.heart.id)
            elif was and not self.leader:
                log.warning("worker %s no longer leads", app.heart.id)
        except Exception as exc:
            self.failed("heartbeat failed", exc)

    def wake(self, box: MailboxSettings) -> None:
        """New mail in box (its IDLE watcher says so): run its poll job now, or once more after the running one."""
        with self._guard:
            if box.name in self._polling:
                self._again.add(box.name)
                return
        scheduler = self.scheduler
        if scheduler is None or self.app.stop.is_set():
            return
        try:
            scheduler.modify_job(f"poll:{box.name}", next_run_time=dt.datetime.now())
        except Exception as exc:
            self.failed(f"starting the poll of {box.name} for its new mail failed", exc)

    def poll(self, box: MailboxSettings) -> None:
        """The poll job: polls again while new mail is announced during the poll."""
        with self._guard:
            self._polling.add(box.name)
        while True:
            with self._guard:
                self._again.discard(box.name)
            self._poll(box)
            with self._guard:
                if box.name not in self._again or self.app.stop.is_set():
                    return

    def polled(self, event: JobExecutionEvent) -> None:
        """A poll job is over as far as the scheduler knows: mail announced since then is polled at once."""
        name = str(event.job_id).removeprefix("poll:")
        with self._guard:
            self._polling.discard(name)
            again = name in self._again
            self._again.discard(name)
        if again:
            self.wake(self.app.settings.mailbox(name))

    def _poll(self, box: MailboxSettings) -> None:
        app = self.app
        if app.stop.is_set() or self.gone():
            return
        try:
            with app.sessions() as session:
                state = session.get(MailboxState, box.name)
                retry_at = state.retry_at if state else None
            if retry_at is not None and retry_at > utcnow():
                log.debug("%s: backing off until %s", box.name, retry_at)
                resumed = app.resume_box(box, keep_lock=True)  # what is stored is judged all the same
                if resumed:
                    log.info("%s: resumed %s", box.name, resumed)
                return
            report = app.poll_box(box, keep_lock=True)
            if report.skipped:
                log.debug("%s: %s", box.name, report.skipped)
                return
            if report.error:
                if self.gone():
                    return
                with app.sessions() as session:
                    state = session.get(MailboxState, box.name)
                    errors = state.consecutive_errors if state else 0
                    retry = (state.retry_at - utcnow()).total_seconds() if state and state.retry_at else 0
                log.error("poll %s failed: %s (%d in a row, next try in %.0fs)", box.name, report.error, errors, retry)
            elif report.fetched or report.resumed:
                log.info("%s: fetched %d, resumed %d: %s", box.name, report.fetched, report.resumed, report.statuses)
        except Exception as exc:
            self.failed(f"poll {box.name} ({box.host}:{box.port}) failed", exc)
        if self.leader:
            self.replies()

    def replies(self) -> None:
        if not self.leader or self.app.stop.is_set() or self.gone() or not self._sending.acquire(blocking=False):
            return
        try:
            report = self.app.send_replies()
            if report.sent or report.retrying or report.given_up:
                log.info("replies: sent %d, to retry %d, given up %d", report.sent, report.retrying, report.given_up)
        except Exception as exc:
            self.failed("sending replies failed", exc)
        finally:
            self._sending.release()

    def digest(self, catch_up_only: bool = False) -> None:
        """The day's digest at its time; with catch_up_only (at start-up, then every CATCH_UP_MINUTES) the last
        due digest if it was missed while the service was down or its try failed, sent marked late."""
        if not self.leader or self.app.stop.is_set() or self.gone():
            return
        try:
            if catch_up_only:
                done = catch_up(self.app)
                if done is not None:
                    log.info("digest for %s (catch-up): %s", done[0], done[1].value)
            else:
                log.info("digest for %s: %s", today(), send_digest(self.app, day=today()).value)
        except Exception as exc:
            self.failed(f"the daily digest failed (tried again within {CATCH_UP_MINUTES} minutes)", exc)


def build_scheduler(worker: Worker) -> BackgroundScheduler:
    app = worker.app
    service = app.settings.service
    scheduler = BackgroundScheduler(
        executors={"default": ThreadPoolExecutor(max_workers=len(app.settings.mailboxes) + 4)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
    )
    now = dt.datetime.now()
    scheduler.add_job(
        worker.beat, IntervalTrigger(seconds=service.heartbeat_seconds), id="heartbeat", next_run_time=now
    )
    for box in app.settings.mailboxes:
        scheduler.add_job(
            worker.poll,
            IntervalTrigger(seconds=box.poll_seconds),
            args=(box,),
            id=f"poll:{box.name}",
            name=f"poll {box.name}",
            next_run_time=now + dt.timedelta(seconds=0.5),
        )
    scheduler.add_listener(
        lambda event: worker.polled(event) if str(event.job_id).startswith("poll:") else None,
        EVENT_JOB_EXECUTED | EVENT_JOB_ERROR,
    )
    scheduler.add_job(worker.replies, IntervalTrigger(seconds=service.reply_seconds), id="replies")
    t = app.settings.digest.time
    scheduler.add_job(worker.digest, CronTrigger(hour=t.hour, minute=t.minute, timezone=LOCAL_TZ), id="digest")
    scheduler.add_job(
        worker.digest,
        IntervalTrigger(minutes=CATCH_UP_MINUTES),
        args=(True,),
        id="digest-catch-up",
        next_run_time=now + dt.timedelta(seconds=1),
    )  # a day missed while down is sent at start-up, marked late
    return scheduler


def store_lost(app: App, reason: str) -> None:
    """The store's file was deleted or replaced: one line, and the service stops (nothing more is sent)."""
    log.critical(
        "%s: intake stops, nothing more is judged or sent; restore the file or start a new store "
        '(see "A store that vanishes" in the README)',
        reason,
    )
    app.stop.set()


def run(app: App) -> str | None:
    """Run until SIGTERM or SIGINT; the message in hand is finished before exiting. Returns why the
    service stopped by itself (its store's file deleted or replaced), else None."""
    watch = app.watch
    if watch is not None:
        watch.listen(lambda reason: store_lost(app, reason))

    def _stop(signum: int, frame: types.FrameType | None) -> None:
        log.info("signal %d: finishing the message in hand, then stopping", signum)
        app.stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)  # jobs log their own outcome
    worker = Worker(app)
    worker.beat()  # the first beat before any job: the leader and the mailboxes are known when the polls start
    scheduler = build_scheduler(worker)
    worker.scheduler = scheduler
    scheduler.start()
    log.info("intake running: %d mailbox(es), worker %s", len(app.settings.mailboxes), app.heart.id)
    app.stop.wait()
    worker.watchers.stop_all(timeout=5.0)
    scheduler.shutdown(wait=True)
    app.close()
    if watch is not None and watch.gone is not None:
        return watch.gone
    log.info("intake stopped")
    return None
