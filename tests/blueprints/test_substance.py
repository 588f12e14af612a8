"""What one sentence says: who is named, what need, or why it does not count."""

from __future__ import annotations

import pytest

from govbot.blueprints import Reading, Zone
from govbot.blueprints.substance import read_sentence


def reading(text: str, zone: Zone = Zone.PROBLEM, **kw: object) -> Reading:
    return read_sentence(text, zone, **kw)[0]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        # who and a pain or a wish
        ("Operators cannot drain a host today.", Reading.NEED),
        ("Tenants must supply a prefix when they create a subnet.", Reading.NEED),
        ("As a developer of client tooling, I would like to filter on the server.", Reading.NEED),
        ("It is important for administrators to know both values.", Reading.NEED),
        ("The latter has been requested by users in the past.", Reading.NEED),
        (
            "Manila needs a secure way to transfer shares so that other users can get them.",
            Reading.NEED,
        ),
        # a wish is its owner's: the last one named before it
        ("We need to rename the module to avoid confusing users.", Reading.NO_NEED),
        (
            "In order to connect, the weigher needs settings set by the cloud administrator.",
            Reading.NO_NEED,
        ),
        ("When a user deletes a message, the message must be claimed.", Reading.NO_NEED),
        # "would" in a conditional says what happens, it is no guess
        ("To delete project B, the user would need to delete D and E first.", Reading.NEED),
        ("The user would need a faster disk.", Reading.SPECULATIVE),
        # denied, hedged, future benefit
        ("Users do not need to change anything.", Reading.NO_NEED),
        ("This is not a problem for operators.", Reading.NO_NEED),
        ("The cloud administrator may want to filter the storages.", Reading.SPECULATIVE),
        ("It could be helpful for operators to have a dedicated tool.", Reading.SPECULATIVE),
        ("Developers that use automation tooling will also benefit.", Reading.SPECULATIVE),
        ("This allows new formats that will meet specific deployer needs.", Reading.SPECULATIVE),
        # a pain word that describes a thing
        ("Deployers need data which users cannot modify.", Reading.NEED),
        (
            "Evacuate the instances of the failed host to reserved hosts owned by operators.",
            Reading.NO_NEED,
        ),
        # inside the code
        ("As a developer, I don't want to worry about two APIs.", Reading.INSIDE),
        ("The drivers need a common place to register options.", Reading.INSIDE),
        # nobody named
        ("Two concurrent requests both proceed and one of them fails.", Reading.SCENARIO),
        ("We have to connect every node by hand before inspection.", Reading.SCENARIO),
        ("The access rule lacks a metadata property.", Reading.CAPABILITY),
        ("The flavor API can filter by name but not by description.", Reading.CAPABILITY),
        ("Refactor the scheduler filters into one object.", Reading.PLAIN),
        # template guidance
        ("What use cases does this address?", Reading.GUIDANCE),
        ("Ensure you are clear about the actors: Developer, End User, Deployer.", Reading.GUIDANCE),
        ("Provide VM consoles for all protocols.", Reading.PLAIN),
    ],
)
def test_readings(sentence: str, expected: Reading) -> None:
    assert reading(sentence) is expected


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        # a pain is owned by whoever suffers it, named before or after it
        ("The quota cannot be changed by the project owner once it is set.", Reading.NEED),
        ("The dashboard is confusing for new users.", Reading.NEED),
        ("There were complaints from operators about the log volume.", Reading.NEED),
        ("Operators have reported that the agent hangs after an upgrade.", Reading.NEED),
        # what is not supported is a thing, not someone's pain
        ("The service does not support signed images from users.", Reading.NO_NEED),
        # "the needs of" is a noun: nobody is said to need anything
        ("This spec addresses the needs of their applications.", Reading.NO_NEED),
        # a situation that fails today, told without naming who it fails for
        ("When the host reboots, its instances cannot reach the network.", Reading.SCENARIO),
        ("If a request times out, it is hard to tell which service dropped it.", Reading.SCENARIO),
        ("An attacker can read the tokens of other tenants from the log.", Reading.SCENARIO),
        # ... but the code's own upkeep, a guess, or no situation at all is none
        ("If the schema changes, it is hard to maintain the plugin.", Reading.PLAIN),
        ("When the host reboots, it may be impossible to reach the network.", Reading.PLAIN),
        ("It is impossible to export the report as CSV.", Reading.PLAIN),
    ],
)
def test_who_owns_a_pain_and_scenarios(sentence: str, expected: Reading) -> None:
    assert reading(sentence) is expected


def test_a_story_voice_under_use_cases_is_someone_outside() -> None:
    # "As Priya, I want": a persona; "I want" under Use Cases is the story's voice, while
    # the same words in a problem statement are the authors speaking.
    assert reading("As Priya, I want to see which lease holds a host.", Zone.USE_CASES) is (
        Reading.NEED
    )
    assert reading("I want to resize the cluster without downtime.", Zone.USE_CASES) is (
        Reading.NEED
    )
    assert reading("I want to resize the cluster without downtime.") is Reading.INSIDE


def test_use_cases_credit_an_actor_doing_something() -> None:
    """In a use-case section an actor doing something is a use case; a guess is not."""
    assert (
        reading("An end user can use the same client for every service.", Zone.USE_CASES)
        is Reading.NEED
    )
    assert (
        reading("The user in project A hands data to a user in project B.", Zone.USE_CASES)
        is Reading.NEED
    )
    assert reading("Users could add key-value pairs.", Zone.USE_CASES) is Reading.SPECULATIVE
    assert reading("An end user can use the same client for every service.") is Reading.NO_NEED


def test_they_and_a_nameless_subject_refer_to_who_came_before() -> None:
    """ "they" is whom the sentence before named; so is a sentence that names nobody."""
    assert (
        reading("Currently they retrieve all messages and filter them by hand.", carried=("users",))
        is Reading.NEED
    )
    assert reading("The items need to be sorted by status.", carried=("a ui",)) is Reading.NEED
    assert (
        reading("If you want to delete a message, use both ids.", carried=("a user",))
        is not Reading.NEED
    )


def test_a_driver_spec_wanting_its_product_is_no_need() -> None:
    """In a driver's spec, wanting to use the product is the driver's existence."""
    story = "As an operator, I want to use the service to manage the Acme X710 card."
    assert reading(story, Zone.USE_CASES) is Reading.NEED
    assert reading(story, Zone.USE_CASES, product=True) is not Reading.NEED
    pain = "Operators restart the agent by hand after every firmware update."
    assert reading(pain, Zone.USE_CASES, product=True) is Reading.NEED


def test_a_use_case_told_as_a_task_with_its_reason_is_a_need() -> None:
    task = "Attach twenty volumes in one call, so that a failed attach leaves nothing behind."
    assert reading(task, Zone.USE_CASES) is Reading.NEED
    # no reason given, a guess, or the code's own upkeep: not a need
    assert reading("Attach twenty volumes in one call.", Zone.USE_CASES) is not Reading.NEED
    guess = "Attach volumes in one call, so that it might be faster."
    assert reading(guess, Zone.USE_CASES) is not Reading.NEED
    code = "Move the quota checks into one module so that the code is simpler to maintain."
    assert reading(code, Zone.USE_CASES) is not Reading.NEED
    # outside a use-case heading the task names nobody
    assert reading(task) is not Reading.NEED
