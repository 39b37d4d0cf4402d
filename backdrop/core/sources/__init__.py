"""Sources (SPEC 12): data sets that pull their records from HTTP on a schedule.

- ``config``: what a source is, checked when added; ``schedule``: cron or
  ``every 15m``, and whether a source is due;
- ``fetch``: HTTP with timeouts, a size limit, at most 5 redirects and
  private-address refusal on every hop;
- ``store``: configs, state, runs and the run lock as documents;
- ``run``: one run, recorded whatever happens; ``due``: the sources to start
  now. Beat's tick (``backdrop.transformers``) and ``backdrop sources run``
  both call these; nothing here imports Celery or Flask.
"""
