# The intake service: `intake run` by default; `docker compose run --rm intake db upgrade` etc. for
# the other commands (the entrypoint is `intake`, the default command `run`).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# libmediainfo: media facts (pymediainfo) · libmagic: file types by their bytes · unar: RAR ·
# ffmpeg: how loud a work's sound is (a silent track is noted for the hosts).
RUN apt-get update \
 && apt-get install -y --no-install-recommends libmediainfo0v5 libmagic1 unar ffmpeg \
 && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 intake \
 && useradd --system --uid 10001 --gid intake --home-dir /var/lib/intake --shell /usr/sbin/nologin intake \
 && install -d -o intake -g intake -m 0750 /var/lib/intake \
 && install -d -m 0755 /etc/intake

WORKDIR /src
COPY pyproject.toml README.md constraints.txt ./
COPY campaign ./campaign
COPY intake ./intake
COPY ingest ./ingest
COPY report ./report
COPY notify ./notify
COPY store ./store
# constraints.txt pins every version the test suite passed with (pyproject.toml keeps the ranges).
RUN pip install -c constraints.txt . && cd / && rm -rf /src

USER intake
WORKDIR /var/lib/intake
ENV INTAKE_CONFIG=/etc/intake/config.toml
VOLUME ["/var/lib/intake"]
# SIGTERM lets the message in hand finish; give it the time systemd gives (TimeoutStopSec=120).
STOPSIGNAL SIGTERM
# Healthy while `intake status` finds nothing that needs attention (exit 0): every mailbox polled
# within its thresholds, no backlog, no replies given up, the digest sent (thresholds in [status]).
HEALTHCHECK --interval=60s --timeout=30s --start-period=120s --retries=3 CMD ["intake", "status"]
ENTRYPOINT ["intake"]
CMD ["run"]
