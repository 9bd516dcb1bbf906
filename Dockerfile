FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

COPY requirements/base.lock requirements/base.lock
RUN pip install --no-cache-dir -r requirements/base.lock

COPY . .
# collectstatic needs a key to import settings; the real one comes at run time.
RUN SECRET_KEY=build-only python manage.py collectstatic --noinput \
    && useradd --system --home /app newsroom && mkdir -p /app/var/media /app/var/baked \
    && chown -R newsroom /app/var
USER newsroom

EXPOSE 8000
CMD ["granian", "--interface", "wsgi", "--host", "0.0.0.0", "--port", "8000", "--workers", "2", "--blocking-threads", "1", "--http", "1", "--no-ws", "newsroom.wsgi:application"]
