#!/bin/sh
set -e

case "$1" in
    web)
        shift
        python manage.py migrate --noinput
        # Refresh the shared static volume: a named volume is only seeded from the
        # image the first time, so files from a rebuilt image would otherwise go stale.
        python manage.py collectstatic --noinput
        # --proxy-headers: trust X-Forwarded-For/Proto from nginx (web is not published).
        exec daphne -b 0.0.0.0 -p 8000 --proxy-headers "$@" config.asgi:application
        ;;
    worker)
        shift
        exec celery -A config worker -l info "$@"
        ;;
    beat)
        shift
        exec celery -A config beat -l info --schedule /app/var/celerybeat-schedule "$@"
        ;;
    *)
        exec "$@"
        ;;
esac
