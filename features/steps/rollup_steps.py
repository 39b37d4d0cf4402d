"""Steps of the rollups feature: wait for a data set's rollup to be built
(the write app builds it in a thread), and compare answers over time."""

from __future__ import annotations

import time

from behave import then

from backdrop.core.storage import open_engine

BUILD_WAIT_SECONDS = 30


@then('the rollup of "{name}" is built')
def step_rollup_built(context, name):
    engine = open_engine(context.database_url)
    try:
        deadline = time.monotonic() + BUILD_WAIT_SECONDS
        while not engine.records.state(name).ready:
            assert time.monotonic() < deadline, f"the rollup of {name} was not built in time"
            time.sleep(0.05)
    finally:
        engine.close()


@then("I remember the JSON response")
def step_remember(context):
    context.remembered = context.response.json()


@then("the JSON response is the one remembered")
def step_same_as_remembered(context):
    actual = context.response.json()
    assert actual == context.remembered, f"expected {context.remembered!r}\n     got {actual!r}"
