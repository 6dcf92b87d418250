"""A subject with a stored session plan, a live console on loopback and a headless client."""

from __future__ import annotations

import pytest

from generation.session.plan import EXAMPLE, parse_plan

# The example plan without its stored recording, so it needs no tracks in the vault.
PLAN_TOML = EXAMPLE.replace('{ track = "hello", text = "Hello, love.", approved_by = "dr-lee" }',
                            '{ text = "Hello, love." }')
CHECKLIST_OK = {"adult_client": True, "client_consent": True, "acute_suicidality": False, "psychosis": False,
                "severe_dissociation": False, "photosensitive_epilepsy": False, "cybersickness": "low"}


@pytest.fixture
def plan():
    return parse_plan(PLAN_TOML, author="anna")


@pytest.fixture
def planned_vault(make_subject, plan):
    from generation.session.store import save_plan

    vault = make_subject("rose")
    save_plan(vault, plan)
    return vault


@pytest.fixture
def service(planned_vault):
    from vr_app.console.service import ConsoleService

    svc = ConsoleService(planned_vault)
    yield svc
    svc.close()


@pytest.fixture
def live(service):
    from tests.session.helpers import LiveConsole

    console = LiveConsole(service)
    yield console
    console.stop()
