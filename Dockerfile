# Dariger service image. Build: docker build -t dariger .   Run: docker run -p 8080:8080 dariger
# The RUN steps are the commands `make` runs too (install the project, compile the catalogs).

FROM python:3.11-slim AS build
WORKDIR /app
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
COPY . .
RUN python -m venv /venv && /venv/bin/pip install --upgrade pip && /venv/bin/pip install .
RUN if ls locales/*/LC_MESSAGES/*.po >/dev/null 2>&1; then /venv/bin/pybabel compile -d locales -D messages && /venv/bin/pybabel compile -d locales -D console; fi

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 --user-group app
COPY --from=build /venv /venv
COPY --from=build /app /app
WORKDIR /app
RUN mkdir -p /app/var && chown app:app /app/var
USER app
# The source tree in /app comes first on the path, so that files beside the packages (the
# compiled locales) are found; /app/var holds the embedded SQLite database and console SMS.
ENV PATH=/venv/bin:$PATH PYTHONPATH=/app PYTHONUNBUFFERED=1 HOST=0.0.0.0 PORT=8080 LOG_FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8080'), timeout=4)"
CMD ["dariger", "serve"]
