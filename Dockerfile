# syntax=docker/dockerfile:1
# One image for every role of the OMS (web, ws, processor, relay, marketdata,
# risk, celery-worker, celery-beat): the Kubernetes Deployment of each role picks it by its
# command (deploy/k8s/base). The default command is the web role.
#
# Base image: an exact tag. The release pipeline pins it further by digest
# (python:3.11.14-slim-bookworm@sha256:...), see deploy/README.md "Build and push".
# The Python version matches pyproject.toml (requires-python >=3.11,<3.12).
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

# ---------------------------------------------------------------------------------------
# The trading UI (frontend/): built here and served by Django at `/` (WhiteNoise serves
# frontend/dist as the site root); the same build can go to S3 behind CloudFront
# (terraform/modules/ui_cdn). No browser is downloaded: the e2e tests are not run here.
FROM node:20.18.1-bookworm-slim AS ui
ENV PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
WORKDIR /ui
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY frontend/ ./
RUN npm run build
# ---------------------------------------------------------------------------------------

FROM ${PYTHON_IMAGE} AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

# Every dependency (psycopg[binary], confluent-kafka, ...) ships a manylinux wheel, so the
# builder needs no compiler and no apt packages.
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /app
# Dependencies first (a layer that changes only with the pins), then the code.
COPY pyproject.toml requirements.lock README.md ./
COPY oms/ oms/
COPY apps/ apps/
COPY config/ config/
COPY manage.py ./
# The project is a setuptools package (oms, apps, config); requirements.lock pins every
# transitive dependency as a constraints file, exactly as `make venv` does.
RUN pip install -c requirements.lock . \
    && python -m compileall -q /app/oms /app/apps /app/config

# Static files (admin, DRF, drf-spectacular) are collected at build time, so the web pods
# can run with a read-only root filesystem and WhiteNoise serves them from the image.
# collectstatic runs under the production settings (OMS_ENV=prod: the same STORAGES as at
# run time), which refuse to load without SECRET_KEY. The key given here is a build-only
# dummy: it is an ARG of this builder stage only, never an ENV, and the runtime stage
# below copies files out of this stage, not its layers or history, so it is not in the
# final image. It signs nothing: collectstatic hashes and compresses files only. The real
# key comes from AWS Secrets Manager at run time (ExternalSecret oms-secrets).
ARG COLLECTSTATIC_DUMMY_KEY=build-only-dummy-key-used-by-collectstatic-and-never-at-run-time
RUN OMS_ENV=prod SECRET_KEY="${COLLECTSTATIC_DUMMY_KEY}" \
    python manage.py collectstatic --noinput -v0

# ---------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="crypto-oms" \
      org.opencontainers.image.description="Crypto OMS: one image, one role per command" \
      org.opencontainers.image.licenses="Apache-2.0"

# A fixed, high, non-root UID/GID (the Kubernetes securityContext runs as 10001 too).
RUN groupadd --system --gid 10001 oms \
    && useradd --system --uid 10001 --gid oms --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin oms

# PYTHONPATH=/app: gunicorn, daphne and celery are console scripts whose sys.path[0] is the venv's
# bin/, so without it they would import the installed copy of the package while
# manage.py imports /app; with it every role imports the same source tree.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    OMS_ENV=prod \
    OMS_PROBE_PORT=9100

COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /app /app
COPY --from=ui /ui/dist /app/frontend/dist

WORKDIR /app
# Code and venv stay owned by root: the app user can read, not modify them. Writable
# paths are only the emptyDir volumes the pods mount (/tmp).
USER 10001:10001

# 8000: web (gunicorn, config/gunicorn.py) and ws (daphne through oms.serve); 9100:
# /health, /ready, /metrics of every role (the web role's: its master, every worker's metrics).
EXPOSE 8000 9100

CMD ["gunicorn", "--config", "python:config.gunicorn", "--bind", "0.0.0.0:8000", "config.wsgi:application"]
