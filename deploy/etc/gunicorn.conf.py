"""gunicorn settings of the HTTP role (/etc/hermes/gunicorn.conf.py, the same on every node).

The listen address comes from HERMES_HTTP_HOST / HERMES_HTTP_PORT in /etc/hermes/node.env, the
same variables Hermes reads as ``[http] host`` and ``port``.
"""

import os

bind = "{}:{}".format(
    os.environ.get("HERMES_HTTP_HOST", "127.0.0.1"), os.environ.get("HERMES_HTTP_PORT", "5232")
)

# Processes x threads = requests in flight on this node. Each process has its own connection
# pool ([database] pool_size), so keep threads <= pool_size.
workers = 4
threads = 4

# A worker silent this long is killed and replaced. Matches nginx's proxy_read_timeout: the
# longest legitimate request is a first full sync or a big report export.
timeout = 120
# On HUP or stop, requests in progress get this long to finish.
graceful_timeout = 30
# Longer than nginx's upstream keepalive_timeout (60 s), so nginx closes idle connections first.
keepalive = 75

# Only the load balancer may set X-Forwarded-Proto (https); anyone else's header is ignored.
forwarded_allow_ips = "10.0.0.10"

accesslog = "-"
