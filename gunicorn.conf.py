"""Gunicorn settings for every process started from the repository root.

Gunicorn ≥ 24 opens a control socket at one fixed path per user; the read
and write apps (and test runs) would fight over it, and Backdrop does not use it.
"""

control_socket_disable = True
