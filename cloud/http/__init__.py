"""HTTP plumbing the app puts in front of every route: body and request-line limits, throttles.

ASGI middleware that refuses a body past its limit before it is read, a path or query holding
NUL, and the sliding-window throttle of failed attempts per client. Imports only
``cloud.errors``.
"""
