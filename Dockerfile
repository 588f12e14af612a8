# govbot service image: `docker build -t govbot .` then
#   docker run -p 8080:8080 -e GOVBOT_GERRIT_URL=... -e GOVBOT_GERRIT_PASSWORD_FILE=/run/secrets/gerrit govbot
# The default command runs the service (scheduler, dashboard, webhook intake);
# `docker run govbot govbot check ...` runs one check.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# git: gitpython needs the git binary for `govbot check --git` and the mirror cache.
RUN apt-get update \
    && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/*

# The versions of requirements/lock.txt (hash-checked), without the test tools: the image
# runs what `make test` tested. --no-index: a dependency the lock lacks fails the build.
COPY requirements/runtime.txt /src/requirements/
RUN pip install --require-hashes --no-deps -r /src/requirements/runtime.txt
COPY pyproject.toml README.md /src/
COPY govbot /src/govbot
# The JSON API's description: govbot/web/api/govbot.yaml links to it, the wheel carries it.
COPY api-specs /src/api-specs
RUN pip install --no-index --no-build-isolation --no-deps /src && pip check && rm -rf /src

RUN useradd --create-home --uid 10001 --user-group govbot
USER govbot
WORKDIR /home/govbot

# The default policy ships inside the package; mount policies/ and set GOVBOT_POLICY_DIR
# to use the TC's repository instead. The SQLite database lives in the working directory
# unless GOVBOT_DATABASE_URL says otherwise.
ENV GOVBOT_WEB_HOST=0.0.0.0 \
    GOVBOT_WEB_PORT=8080

EXPOSE 8080
CMD ["govbot", "serve"]
