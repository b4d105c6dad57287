# syntax=docker/dockerfile:1
# Multi-stage build: dependencies are installed from the runtime lock file in a builder stage
# (requirements.lock only: the test and lint tools of requirements-dev.lock stay out), the
# runtime image gets only the virtual environment and the code, and runs as a non-root user
# with data/ as a volume.

FROM python:3.11-slim AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
RUN python -m venv /opt/venv
COPY requirements.lock ./
RUN /opt/venv/bin/pip install -r requirements.lock
COPY pyproject.toml README.md alembic.ini ./
COPY bot ./bot
RUN /opt/venv/bin/pip install --no-deps .

FROM python:3.11-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CONTENT_DIR=/app/content \
    DATABASE_URL=sqlite+aiosqlite:////app/data/tutor.db \
    LOG_LEVEL=INFO
RUN useradd --create-home --uid 10001 tutor
WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
COPY content ./content
RUN mkdir -p /app/data && chown tutor:tutor /app/data
USER tutor
VOLUME ["/app/data"]
# Healthy when the database opens and every deck is valid (cheap; no Discord call).
HEALTHCHECK --interval=60s --timeout=20s --start-period=60s --retries=3 \
    CMD ["python", "-m", "bot", "health"]
CMD ["python", "-m", "bot", "run"]
