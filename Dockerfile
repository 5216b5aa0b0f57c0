# syntax=docker/dockerfile:1

# --- Front-end packages (served from node_modules by the staticfiles finders) ---
FROM node:22-slim AS assets
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

# --- Python dependencies in a self-contained virtualenv ---
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY requirements/runtime.txt /tmp/runtime.txt
RUN pip install -r /tmp/runtime.txt

# --- Runtime image ---
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    NUMBA_CACHE_DIR=/app/var/numba-cache

RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg libsndfile1 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --user-group --uid 1000 encore

WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY --from=assets /app/node_modules ./node_modules
COPY . .
# var/ must exist and belong to encore so that fresh named volumes (media, static)
# inherit that ownership when Docker first populates them from the image.
RUN mkdir -p var/static var/media var/numba-cache \
    && chown -R encore:encore var \
    && chmod 755 deploy/entrypoint.sh

USER encore
# collectstatic touches no database; the key is a throwaway for this step only.
RUN SECRET_KEY=build-only-not-secret python manage.py collectstatic --noinput

EXPOSE 8000
ENTRYPOINT ["/app/deploy/entrypoint.sh"]
CMD ["web"]
