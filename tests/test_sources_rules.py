"""The pure mapping from directory groups and group rules to members."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from roster.desired import GroupRule
from roster.errors import ConfigError, SourceError
from roster.sources.directory import Directory, Group, Person
from roster.sources.generated import render_generated
from roster.sources.rules import resolve


def person(key: str, email: str | None = None) -> Person:
    return Person(key, email if email is not None else f"{key}@example.com", f"entry {key}")


def group(key: str, people: tuple[str, ...] = (), groups: tuple[str, ...] = ()) -> Group:
    return Group(key, (key, key.upper()), f"group {key}", people, groups)


def directory(*groups: Group, people: tuple[Person, ...] = ()) -> Directory:
    everyone = people or tuple(person(k) for g in groups for k in g.people)
    return Directory("test source", {p.key: p for p in everyone}, {g.key: g for g in groups})


NESTED = directory(
    group("eng", ("ann",), ("platform",)),
    group("platform", ("bob",), ("sre",)),
    group("sre", ("cleo",), ("eng",)),  # a cycle back to the top
    group("staff", ("ann", "dan")),
)


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        (
            [GroupRule("eng", "developer")],
            {"ann": "developer", "bob": "developer", "cleo": "developer"},
        ),
        (
            [GroupRule("staff"), GroupRule("eng", "developer")],
            {"ann": "developer", "bob": "developer", "cleo": "developer", "dan": "user"},
        ),
        (
            [GroupRule("sre", "billing"), GroupRule("eng", "developer")],
            {"ann": "billing", "bob": "billing", "cleo": "billing"},
        ),
        ([GroupRule("STAFF", "admin")], {"ann": "admin", "dan": "admin"}),
    ],
)
def test_highest_role_wins_and_nesting_and_cycles_are_followed(
    rules: list[GroupRule], expected: dict[str, str]
) -> None:
    members = resolve(NESTED, rules).members
    assert {e.split("@")[0]: m.role for e, m in members.items()} == expected


def test_reasons_name_the_rule_and_the_groups_down_to_the_person() -> None:
    members = resolve(NESTED, [GroupRule("eng", "developer"), GroupRule("staff")]).members
    cleo = members["cleo@example.com"]
    assert [(r.rule, r.via, r.role) for r in cleo.reasons] == [
        ("eng", ("platform", "sre"), "developer")
    ]
    assert len(members["ann@example.com"].reasons) == 2


def test_per_workspace_the_highest_role_wins_and_inherited_roles_are_dropped() -> None:
    rules = [
        GroupRule("staff", "user", {"Research": "workspace_user", "Ops": "workspace_admin"}),
        GroupRule("eng", "developer", {"Research": "workspace_developer"}),
        GroupRule("platform", "billing", {"Research": "workspace_user"}),
    ]
    members = resolve(NESTED, rules).members
    assert dict(members["dan@example.com"].workspaces) == {
        "Ops": "workspace_admin",
        "Research": "workspace_user",
    }
    # ann is billing too (platform > sre > eng holds her): only workspace_admin stands beside it
    assert dict(members["ann@example.com"].workspaces) == {"Ops": "workspace_admin"}
    assert members["ann@example.com"].role == "billing"
    # bob is billing: only workspace_admin lines can stand beside it
    assert dict(members["bob@example.com"].workspaces) == {}


def test_a_rule_naming_an_unknown_group_is_a_located_problem() -> None:
    with pytest.raises(ConfigError) as caught:
        resolve(NESTED, [GroupRule("nope", at=("roster.yaml", 7, 14))])
    assert str(caught.value) == "roster.yaml:7:14: group rule: test source has no group 'nope'"


def test_a_person_without_email_names_the_entry() -> None:
    source = directory(group("g", ("ann", "bob")), people=(person("ann"), person("bob", "")))
    with pytest.raises(SourceError, match=r"^test source: entry bob has no email"):
        resolve(source, [GroupRule("g")])


def test_two_entries_with_one_email_name_both() -> None:
    source = directory(
        group("g", ("a1", "a2")),
        people=(person("a1", "Ann@example.com"), person("a2", "ann@example.com")),
    )
    with pytest.raises(
        SourceError, match=r"two entries give one email: ann@example.com \(entry a1, entry a2\)"
    ):
        resolve(source, [GroupRule("g")])


def test_an_email_a_file_cannot_state_is_refused() -> None:
    source = directory(group("g", ("x",)), people=(person("x", "not-an-address"),))
    with pytest.raises(SourceError, match="not an email address a roster file can state"):
        resolve(source, [GroupRule("g")], valid_email=lambda email: "@" in email)


def test_hostile_names_cannot_inject_yaml_into_the_generated_file() -> None:
    import yaml

    evil = "eng\n  mallory@example.com: admin\x1b[2J"
    source = Directory("src", {"m": person("m")}, {evil: Group(evil, (evil,), "g", ("m",))})
    text = render_generated(resolve(source, [GroupRule(evil, "developer")]), "roster.yaml")
    assert yaml.safe_load(text)["members"] == {"m@example.com": "developer"}
    assert "\x1b" not in text


# --- properties -----------------------------------------------------------------------------------

keys = st.sampled_from(["a", "b", "c", "d", "e", "f"])
roles = st.sampled_from(["user", "claude_code_user", "developer", "billing", "admin"])
ws_roles = st.sampled_from(["workspace_user", "workspace_developer", "workspace_admin"])


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Directory, list[GroupRule]]:
    groups = [
        group(
            f"g{i}",
            tuple(draw(st.sets(keys))),
            tuple(f"g{j}" for j in draw(st.sets(st.integers(0, 3)))),
        )
        for i in range(4)
    ]
    rules = draw(
        st.lists(
            st.builds(
                GroupRule,
                st.sampled_from([g.key for g in groups]),
                roles,
                st.dictionaries(st.sampled_from(["W1", "W2"]), ws_roles),
            ),
            min_size=1,
            max_size=5,
        )
    )
    return directory(*groups, people=tuple(person(k) for k in "abcdef")), rules


@settings(max_examples=200, deadline=None)
@given(scenarios(), st.randoms())
def test_the_result_does_not_depend_on_order(
    scenario: tuple[Directory, list[GroupRule]], rng: random.Random
) -> None:
    source, rules = scenario
    shuffled_rules = rules[:]
    rng.shuffle(shuffled_rules)
    shuffled_groups = [
        Group(
            g.key,
            g.names,
            g.where,
            tuple(rng.sample(g.people, len(g.people))),
            tuple(rng.sample(g.groups, len(g.groups))),
        )
        for g in rng.sample(list(source.groups.values()), len(source.groups))
    ]
    other = Directory(
        source.describe,
        dict(reversed(list(source.people.items()))),
        {g.key: g for g in shuffled_groups},
    )
    assert render_generated(resolve(other, shuffled_rules), "r.yaml") == render_generated(
        resolve(source, rules), "r.yaml"
    )


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_repeating_the_rules_changes_nothing(scenario: tuple[Directory, list[GroupRule]]) -> None:
    source, rules = scenario
    assert resolve(source, rules + rules) == resolve(source, rules)
