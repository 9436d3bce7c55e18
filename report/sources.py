"""What reporting reads from: the settings, the database sessions and the renderer (the shell's App has them)."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from campaign.settings import Settings
from notify.render import Renderer


class Sources(Protocol):
    """The parts of the application that reporting needs; passed down, never built here."""

    @property
    def settings(self) -> Settings: ...

    @property
    def sessions(self) -> sessionmaker[Session]: ...

    @property
    def renderer(self) -> Renderer: ...
