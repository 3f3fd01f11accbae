"""gunicorn settings for one production web machine: the packaged defaults, adjusted.

Install as /etc/assure/gunicorn.conf.py; assure-web.service runs
`gunicorn --config /etc/assure/gunicorn.conf.py`. Everything not set here comes from
assure/ops/gunicorn_conf.py (gthread workers, timeouts, access log without query strings, masked
JSON logs when ASSURE_ENV=production).
"""

# The packaged module is the base; only what differs on this machine is set below.
from assure.ops.gunicorn_conf import *  # noqa: F403

# nginx runs on this machine (deploy/nginx-assure.conf). When the proxy runs elsewhere, listen on
# the private interface instead and name the proxy in forwarded_allow_ips: gunicorn ignores
# X-Forwarded-* from any other address, and Django trusts X-Forwarded-Proto for HTTPS.
bind = ["127.0.0.1:8000"]
forwarded_allow_ips = "127.0.0.1,::1"

# About two processes per core, four threads each. Memory: roughly 120 MiB per process, plus
# 19 MiB per Argon2 hash in progress (settings: ASSURE_ARGON2_MEMORY_KIB).
workers = 4
threads = 4
