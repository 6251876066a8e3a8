"""gunicorn for dutyfree, behind nginx (dutyfree/deploy/nginx.conf) — never facing clients.

``.venv/bin/gunicorn -c dutyfree/deploy/gunicorn.conf.py dutyfree.wsgi``; an option on the
command line wins over this file (``-w 4``). Sync workers hold one connection each until its
request is complete, so a client that sends its header a line at a time holds a worker: nginx
reads every request whole (and takes every answer whole) before a worker is involved, and the
workers listen on the loopback only.
"""

# The proxy reaches the workers here; clients cannot. (A Unix socket, "unix:/run/dutyfree/
# gunicorn.sock", works too: gunicorn then trusts every peer and the socket's permissions decide.)
bind = "127.0.0.1:8000"
workers = 2
worker_class = "sync"
# A request that runs longer is killed and its worker replaced (nginx answers 502). nginx's
# proxy_read_timeout (60 s) is longer: nginx never gives up on a worker that is still working.
timeout = 30
# X-Forwarded-Proto is believed from the proxy only (nginx on this machine), and it is the one
# scheme header read: nginx overwrites it, and does not forward X-Forwarded-Ssl or
# X-Forwarded-Protocol, so a client cannot name its own scheme. Django reads the same header
# only with TRUSTED_PROXIES set (dutyfree/settings.py).
forwarded_allow_ips = "127.0.0.1"
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}
