"""The export-file sources: a CSV, Microsoft Graph member pages and Google Directory member pages
become exactly these directories, and every broken file is one exact line naming where.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from roster.errors import SourceError
from roster.sources import exports
from roster.sources.directory import Directory, Group, Person
from roster.sources.exports import common, read_csv, read_google, read_graph

DATA = Path(__file__).parent / "data" / "directory" / "exports"
Reader = Callable[..., Directory]
ANN, BOB, CLEO = (
    "4562bcc8-c436-4f95-b7c0-4f8ce89dca5e",
    "d5b6e3a1-7c2f-4e8b-9a0d-1f3c5e7a9b2d",
    "8e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b",
)
DAN, EVE, FINN = (
    "2f7c9e1a-3b5d-4f60-a1b2-c3d4e5f60718",
    "5b4a3f2e-1d0c-4b9a-8877-665544332211",
    "3e2d1c0b-9a8f-4e7d-b6c5-a4b3c2d1e0f9",
)


def read(
    reader: Reader, settings: Mapping[str, Any], base: Path = DATA
) -> tuple[Directory, list[str]]:
    told: list[str] = []
    directory = reader(settings, wanted=(), base=base, env={}, progress=told.append)
    return directory, told


def write(folder: Path, files: Mapping[str, str | bytes | object]) -> None:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        elif isinstance(content, str):
            path.write_text(content, encoding="utf-8", newline="")
        else:
            path.write_text(json.dumps(content), encoding="utf-8")


def graph_page(*members: object, next_link: str | None = None) -> dict[str, object]:
    page: dict[str, object] = {
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#directoryObjects",
        "value": list(members),
    }
    if next_link is not None:
        page["@odata.nextLink"] = next_link
    return page


def graph_user(user_id: str, mail: str | None, principal: str, **more: object) -> dict[str, object]:
    return {
        "@odata.type": "#microsoft.graph.user",
        "id": user_id,
        "displayName": more.pop("displayName", None),
        "mail": mail,
        "userPrincipalName": principal,
        **more,
    }


def graph_group(group_id: str, name: str | None) -> dict[str, object]:
    return {"@odata.type": "#microsoft.graph.group", "id": group_id, "displayName": name}


def google_page(*members: object, token: str | None = None) -> dict[str, object]:
    page: dict[str, object] = {"kind": "admin#directory#members", "members": list(members)}
    if token is not None:
        page["nextPageToken"] = token
    return page


def google_member(
    member_id: str | None, email: str | None, kind: str = "USER", **more: object
) -> dict[str, object]:
    member = {"kind": "admin#directory#member", "id": member_id, "email": email, "type": kind}
    return {
        key: value
        for key, value in {**member, "status": "ACTIVE", **more}.items()
        if value is not None
    }


# --- the example files ----------------------------------------------------------------------------


def test_the_package_exports_the_three_readers() -> None:
    assert exports.__all__ == ["read_csv", "read_google", "read_graph"]


def test_the_example_csv() -> None:
    directory, told = read(read_csv, {"kind": "csv", "path": "groups.csv"})
    assert directory == Directory(
        "csv export groups.csv",
        {
            "ann@example.com": Person(
                "ann@example.com", "ann@example.com", "groups.csv:2", "Ann Archer"
            ),
            "bob@example.com": Person(
                "bob@example.com", "Bob@Example.com", "groups.csv:3", "Bob Baker"
            ),
            "cleo@partner.example": Person(
                "cleo@partner.example",
                "cleo@partner.example",
                "groups.csv:5",
                "Cleo Clark, contractor",
            ),
            "dan@example.com": Person(
                "dan@example.com", "dan@example.com", "groups.csv:7", "Dan Diaz"
            ),
        },
        {
            "Engineering": Group(
                "Engineering",
                ("Engineering",),
                "groups.csv:2",
                ("ann@example.com", "bob@example.com"),
                ("Contractors",),
            ),
            "Contractors": Group(
                "Contractors",
                ("Contractors",),
                "groups.csv:5",
                ("cleo@partner.example", "ann@example.com"),
            ),
            "Admins": Group("Admins", ("Admins",), "groups.csv:7", ("dan@example.com",)),
        },
    )
    assert told == ["csv export groups.csv: 6 rows, 4 people, 3 groups"]


GRAPH_FILES = {
    "Engineering": ["graph/engineering-1.json", "graph/engineering-2.json"],
    "Contractors": "graph/contractors.json",
}


def test_the_example_graph_pages() -> None:
    directory, told = read(read_graph, {"kind": "graph", "files": GRAPH_FILES})
    first, second = "graph/engineering-1.json", "graph/engineering-2.json"
    assert directory == Directory(
        "graph export graph",
        {
            ANN: Person(ANN, "ann@example.com", f"{first}: value[0]", "Ann Archer"),
            BOB: Person(BOB, "Bob@Example.com", f"{first}: value[1]", "Bob Baker"),
            CLEO: Person(CLEO, "cleo@partner.example", f"{first}: value[2]", "Cleo Clark"),
            DAN: Person(DAN, "dan@example.com", f"{second}: value[0]", "Dan Diaz"),
            EVE: Person(EVE, "eve@other.example", f"{second}: value[3]", "Eve Evans"),  # a guest
            FINN: Person(FINN, "finn@example.com", "graph/contractors.json: value[1]", "Finn Fox"),
        },
        {
            "Engineering": Group(
                "Engineering", ("Engineering",), first, (ANN, BOB, CLEO, DAN, EVE), ("Contractors",)
            ),
            "Contractors": Group(
                "Contractors", ("Contractors",), "graph/contractors.json", (CLEO, FINN)
            ),
        },
    )
    assert told == [
        "graph export graph: 2 groups, 3 pages, 6 people",
        "graph export graph: skipped 2 members: 1 device, 1 servicePrincipal",
    ]


def test_the_example_google_pages() -> None:
    files = {
        "Engineering@example.com": "google/engineering.json",
        "contractors@example.com": ["google/contractors-1.json", "google/contractors-2.json"],
    }
    directory, told = read(read_google, {"kind": "google", "files": files})
    ann, dan, cleo, finn = (
        "114020932127365484133",
        "117834922155489023145",
        "109876543210987654321",
        "112233445566778899001",
    )
    assert directory == Directory(
        "google export",
        {
            ann: Person(ann, "ann@example.com", "google/engineering.json: members[0]"),
            dan: Person(dan, "dan@example.com", "google/engineering.json: members[3]"),
            cleo: Person(cleo, "cleo@partner.example", "google/contractors-1.json: members[0]"),
            finn: Person(finn, "finn@example.com", "google/contractors-2.json: members[0]"),
        },
        {
            "engineering@example.com": Group(
                "engineering@example.com",
                ("Engineering@example.com",),
                "google/engineering.json",
                (ann, dan),
                ("contractors@example.com",),
            ),
            "contractors@example.com": Group(
                "contractors@example.com",
                ("contractors@example.com",),
                "google/contractors-1.json",
                (cleo, finn),
            ),
        },
    )
    assert told == [
        "google export: 2 groups, 3 pages, 4 people",
        "google export: skipped 1 member: 1 SUSPENDED",
    ]


# --- CSV cases ------------------------------------------------------------------------------------


def csv_directory(tmp_path: Path, content: str | bytes) -> Directory:
    write(tmp_path, {"groups.csv": content})
    return read(read_csv, {"kind": "csv", "path": "groups.csv"}, tmp_path)[0]


def test_a_bom_blank_lines_and_other_column_orders_are_read(tmp_path: Path) -> None:
    content = "\ufeffName, Member ,GROUP\r\n\r\n,,\r\nAnn,ann@example.com,Eng\r\n"
    directory = csv_directory(tmp_path, content.encode())
    assert directory.people == {
        "ann@example.com": Person("ann@example.com", "ann@example.com", "groups.csv:4", "Ann")
    }
    assert directory.groups == {"Eng": Group("Eng", ("Eng",), "groups.csv:4", ("ann@example.com",))}


def test_lines_count_from_where_a_quoted_record_starts(tmp_path: Path) -> None:
    content = 'group,member,name\nEng,ann@example.com,"Ann\nArcher"\nEng,bob@example.com,Bob\n'
    directory = csv_directory(tmp_path, content)
    assert directory.people["ann@example.com"].where == "groups.csv:2"
    assert directory.people["ann@example.com"].name == "Ann\nArcher"
    assert directory.people["bob@example.com"].where == "groups.csv:4"


def test_a_row_without_an_address_is_a_person_without_an_email(tmp_path: Path) -> None:
    directory = csv_directory(tmp_path, "group,member,name\nEng,,Nobody\nEng, ,\n")
    assert directory.people == {
        "groups.csv:2": Person("groups.csv:2", None, "groups.csv:2", "Nobody"),
        "groups.csv:3": Person("groups.csv:3", None, "groups.csv:3"),
    }
    assert directory.groups["Eng"].people == ("groups.csv:2", "groups.csv:3")


def test_one_address_is_one_person_who_keeps_the_first_row_and_takes_a_later_name(
    tmp_path: Path,
) -> None:
    directory = csv_directory(
        tmp_path,
        "group,member,name\nA,Ann@Example.com,\nB,ann@example.com,Ann\nA,ANN@example.com,\n",
    )
    assert directory.people == {
        "ann@example.com": Person("ann@example.com", "Ann@Example.com", "groups.csv:2", "Ann")
    }
    assert directory.groups["A"].people == ("ann@example.com",)


def test_hostile_names_survive_as_data(tmp_path: Path) -> None:
    group = "Eng\x1b[2J\nineering\u202e"
    content = (
        "group,member,member_type,name\n"
        f'"{group}",ann@example.com,,"\x1b[31mAnn"\n'
        f'"{group}",Sub\u2028,group,\n'
        "Sub\u2028,b@x.io,,\n"
    )
    directory = csv_directory(tmp_path, content)
    assert list(directory.groups) == [group, "Sub\u2028"]
    assert directory.groups[group].names == (group,)
    assert directory.groups[group].groups == ("Sub\u2028",)
    assert directory.people["ann@example.com"].name == "\x1b[31mAnn"


# --- Graph cases ----------------------------------------------------------------------------------


def graph_directory(tmp_path: Path, files: Mapping[str, object]) -> tuple[Directory, list[str]]:
    write(tmp_path, {f"{name}.json": page for name, page in files.items()})
    settings = {"kind": "graph", "files": {name: f"{name}.json" for name in files}}
    return read(read_graph, settings, tmp_path)


def test_a_member_group_is_found_by_a_configured_id(tmp_path: Path) -> None:
    group_id = "9c8b7a6f-5e4d-4c3b-a2a1-0f9e8d7c6b5a"
    directory, _ = graph_directory(
        tmp_path, {"Eng": graph_page(graph_group(group_id, "Contractors")), group_id: graph_page()}
    )
    assert directory.groups["Eng"].groups == (group_id,)
    assert directory.groups[group_id] == Group(group_id, (group_id,), f"{group_id}.json")


def test_emails_come_from_mail_then_a_members_principal_name(tmp_path: Path) -> None:
    page = graph_page(
        graph_user("1", "ann@example.com", "ann.archer@example.com"),
        graph_user("2", None, "bob@example.com"),
        graph_user("3", None, "cleo_partner.example#EXT#@example.onmicrosoft.com"),
        graph_user("4", "dan@partner.example", "dan_partner.example#ext#@example.onmicrosoft.com"),
        graph_user("5", "", "eve@example.com"),
        {
            "@odata.type": "#microsoft.graph.user",
            "id": "6",
        },  # what a reader without User.Read.All sees
    )
    directory, _ = graph_directory(tmp_path, {"Eng": page})
    emails = {key: person.email for key, person in directory.people.items()}
    assert emails == {
        "1": "ann@example.com",
        "2": "bob@example.com",
        "3": None,
        "4": "dan@partner.example",
        "5": "eve@example.com",
        "6": None,
    }


def test_disabled_accounts_contacts_devices_and_apps_are_skipped_and_counted(
    tmp_path: Path,
) -> None:
    page = graph_page(
        graph_user("1", "ann@example.com", "ann@example.com", accountEnabled=True),
        graph_user("2", "bob@example.com", "bob@example.com", accountEnabled=False),
        {"@odata.type": "#microsoft.graph.orgContact", "id": "3", "mail": "c@x.io"},
        {"@odata.type": "#microsoft.graph.device", "id": "4"},
        {"@odata.type": "#microsoft.graph.device", "id": "5"},
        {"@odata.type": "#microsoft.graph.servicePrincipal", "id": "6"},
    )
    directory, told = graph_directory(tmp_path, {"Eng": page, "Empty": graph_page()})
    assert list(directory.people) == ["1"]
    assert directory.groups["Empty"] == Group("Empty", ("Empty",), "Empty.json")
    assert told == [
        "graph export .: 2 groups, 2 pages, 1 person",
        "graph export .: skipped 5 members: 2 device, 1 disabled user, 1 orgContact,"
        " 1 servicePrincipal",
    ]


def test_hostile_graph_names_survive_as_data(tmp_path: Path) -> None:
    name = "Eng\n\x1b]8;;https://evil.example\x07link\x1b]8;;\x07"
    page = graph_page(
        graph_user("1", "a\u202e@example.com", "a@example.com", displayName="\x1b[1A\rAnn")
    )
    directory, _ = graph_directory(tmp_path, {"eng": page})
    assert directory.people["1"] == Person(
        "1", "a\u202e@example.com", "eng.json: value[0]", "\x1b[1A\rAnn"
    )
    settings = {"kind": "graph", "files": {name: "eng.json"}}
    assert list(read(read_graph, settings, tmp_path)[0].groups) == [name]


# --- Google cases ---------------------------------------------------------------------------------


def google_directory(tmp_path: Path, files: Mapping[str, object]) -> tuple[Directory, list[str]]:
    write(tmp_path, {f"{email.split('@')[0]}.json": page for email, page in files.items()})
    settings = {
        "kind": "google",
        "files": {email: f"{email.split('@')[0]}.json" for email in files},
    }
    return read(read_google, settings, tmp_path)


def test_an_empty_group_page_has_no_members_field(tmp_path: Path) -> None:
    directory, told = google_directory(
        tmp_path, {"empty@example.com": {"kind": "admin#directory#members", "etag": '"x"'}}
    )
    assert directory.groups == {
        "empty@example.com": Group("empty@example.com", ("empty@example.com",), "empty.json")
    }
    assert told == ["google export: 1 group, 1 page, 0 people"]


def test_members_without_an_id_or_a_status_and_every_status_but_active(tmp_path: Path) -> None:
    page = google_page(
        google_member(None, "Ann@Example.com"),
        google_member("2", "bob@partner.example", "EXTERNAL", status=None),
        google_member("3", "cleo@example.com", status="SUSPENDED"),
        google_member("4", "sub@example.com", "GROUP", status="SUSPENDED"),
        google_member("5", "dan@example.com", status="UNKNOWN"),
    )
    directory, told = google_directory(tmp_path, {"eng@example.com": page})
    assert directory.people == {
        "ann@example.com": Person("ann@example.com", "Ann@Example.com", "eng.json: members[0]"),
        "2": Person("2", "bob@partner.example", "eng.json: members[1]"),
    }
    assert directory.groups["eng@example.com"].groups == ()
    assert told[1] == "google export: skipped 3 members: 2 SUSPENDED, 1 UNKNOWN"


def test_a_member_group_is_found_by_its_email_in_any_case(tmp_path: Path) -> None:
    files = {
        "Eng@Example.com": google_page(google_member("1", "Sub@example.COM", "GROUP")),
        "sub@example.com": google_page(),
    }
    directory, _ = google_directory(tmp_path, files)
    assert directory.groups["eng@example.com"].groups == ("sub@example.com",)
    assert directory.groups["eng@example.com"].names == ("Eng@Example.com",)


# --- every error, exactly -------------------------------------------------------------------------

CSV_ERRORS = [
    ("", "csv export groups.csv: no header row (group, member, member_type, name)"),
    ("\ufeff\r\n,\r\n", "csv export groups.csv: no header row (group, member, member_type, name)"),
    (
        "group,email\nEng,a@x.io\n",
        "csv export groups.csv:1: the header has no 'member' column"
        " (columns: group, member, member_type, name)",
    ),
    (
        "\n\nmember,name\n",
        "csv export groups.csv:3: the header has no 'group' column"
        " (columns: group, member, member_type, name)",
    ),
    ("group,member,Group\n", "csv export groups.csv:1: the column 'group' appears twice"),
    (
        "group,member,member_type\nEng,a@x.io,user\nEng,b@x.io,robot\n",
        "csv export groups.csv:3: unknown member_type 'robot' (user or group)",
    ),
    ("group,member\nEng,a@x.io\n ,b@x.io\n", "csv export groups.csv:3: the group is empty"),
    ("group,member\n,b@x.io,extra\n", "csv export groups.csv:2: the group is empty"),
    (
        "group,member,member_type\nEng, ,group\n",
        "csv export groups.csv:2: a member_type group row with an empty member",
    ),
    (
        'group,member,member_type,name\nEng,a@x.io,,"A\nB"\nEng,Ops,group,\n',
        "csv export groups.csv:4: group 'Eng' has member group 'Ops', which no row gives as a"
        " group",
    ),
    (
        "group,member\nEng,a@x.io\nEng," + "x" * 131073 + "\n",
        "csv export groups.csv:3: field larger than field limit (131072)",
    ),
    (b"group,member\nEng,\xff@x.io\n", "csv export groups.csv: not UTF-8 text (byte 17)"),
]


@pytest.mark.parametrize(("content", "message"), CSV_ERRORS)
def test_csv_errors(tmp_path: Path, content: str | bytes, message: str) -> None:
    with pytest.raises(SourceError) as raised:
        csv_directory(tmp_path, content)
    assert str(raised.value) == message


GRAPH_ERRORS: list[tuple[Mapping[str, object], str]] = [
    (
        {"eng.json": '{\n  "value": [\n}'},
        "graph export: eng.json:3:1: invalid JSON: Expecting value",
    ),
    ({"eng.json": "[" * 100_000}, "graph export: eng.json: invalid JSON: nested too deeply"),
    ({"eng.json": []}, "graph export: eng.json is not an object with a 'value' list"),
    ({"eng.json": {"@odata.context": "x"}}, "graph export: eng.json has no 'value' list"),
    ({"eng.json": {"value": {}}}, "graph export: eng.json: value is not a list"),
    (
        {
            "eng.json": graph_page(
                graph_user("1", None, "a@x.io"), graph_user("2", None, "b@x.io"), "ann"
            )
        },
        "graph export: eng.json: value[2] is not an object",
    ),
    ({"eng.json": graph_page({"id": "1"})}, "graph export: eng.json: value[0] has no @odata.type"),
    (
        {"eng.json": graph_page({"@odata.type": 7})},
        "graph export: eng.json: value[0]: @odata.type is not a string",
    ),
    (
        {"eng.json": graph_page({"@odata.type": "#microsoft.graph.user", "id": 1})},
        "graph export: eng.json: value[0]: id is not a string",
    ),
    (
        {"eng.json": graph_page(graph_user("1", ["a@x.io"], "a@x.io"))},  # type: ignore[arg-type]
        "graph export: eng.json: value[0]: mail is not a string",
    ),
    (
        {"eng.json": graph_page({"@odata.type": "#microsoft.graph.group", "displayName": "Ops"})},
        "graph export: eng.json: value[0] has no id",
    ),
    (
        {
            "eng.json": graph_page(
                graph_user("1", "a@x.io", "a@x.io"), next_link="https://graph.microsoft.com/v1.0/x"
            )
        },
        "graph export: group 'Engineering': eng.json gives a @odata.nextLink, so more pages"
        " follow it; export them too and list every page under 'files'",
    ),
    (
        {
            "eng.json": graph_page(
                *[graph_user(str(n), None, f"u{n}@x.io") for n in range(4)],
                graph_group("g-1", "Contractors"),
            )
        },
        "graph export: group 'Engineering' (eng.json: value[4]) has member group 'Contractors',"
        " which no file under 'files' gives; export its members too",
    ),
    (
        {"eng.json": graph_page(graph_group("g-1", None))},
        "graph export: group 'Engineering' (eng.json: value[0]) has member group 'g-1', which"
        " no file under 'files' gives; export its members too",
    ),
    ({}, "graph export: eng.json: no such file or directory"),
    (
        {"eng.json": b'\xef\xbb\xbf{"value": "\xc3"}'},
        "graph export: eng.json: not UTF-8 text (byte 14)",
    ),
]


@pytest.mark.parametrize(("files", "message"), GRAPH_ERRORS)
def test_graph_errors(tmp_path: Path, files: Mapping[str, object], message: str) -> None:
    write(tmp_path, files)
    with pytest.raises(SourceError) as raised:
        read(read_graph, {"kind": "graph", "files": {"Engineering": "eng.json"}}, tmp_path)
    assert str(raised.value) == message


@pytest.mark.skipif(not hasattr(sys, "get_int_max_str_digits"), reason="no limit on digits")
def test_a_number_python_will_not_read_is_one_line(tmp_path: Path) -> None:
    write(tmp_path, {"eng.json": "1" * 5000})
    with pytest.raises(SourceError) as raised:
        read(read_graph, {"kind": "graph", "files": {"Eng": "eng.json"}}, tmp_path)
    assert str(raised.value) == "graph export: eng.json: invalid JSON: a number of too many digits"


def test_only_the_last_page_may_not_say_more_follow(tmp_path: Path) -> None:
    write(tmp_path, {"1.json": graph_page(next_link="n"), "2.json": graph_page(next_link="n")})
    settings = {"kind": "graph", "files": {"Eng": ["1.json", "2.json"]}}
    with pytest.raises(SourceError, match=r"^graph export: group 'Eng': 2\.json gives a @odata"):
        read(read_graph, settings, tmp_path)


GOOGLE_ERRORS: list[tuple[object, str]] = [
    (
        {"kind": "admin#directory#groups", "groups": []},
        "google export: eng.json is a 'admin#directory#groups', not a 'admin#directory#members'"
        " page",
    ),
    (
        google_page({"kind": "admin#directory#member"}),
        "google export: eng.json: members[0] has no type",
    ),
    (
        google_page(google_member("1", "a@x.io"), google_member("2", "b@x.io", "ROBOT")),
        "google export: eng.json: members[1]: unknown member type 'ROBOT'"
        " (USER, GROUP, EXTERNAL, CUSTOMER)",
    ),
    (
        google_page(google_member("C03az79cb", None, "CUSTOMER")),
        "google export: group 'eng@example.com' (eng.json: members[0]) has the whole domain as a"
        " member (type CUSTOMER); roster cannot expand that into people: give the rules groups"
        " that list their members",
    ),
    (
        google_page(google_member("1", "ops@example.com", "GROUP")),
        "google export: group 'eng@example.com' (eng.json: members[0]) has member group"
        " 'ops@example.com', which no file under 'files' gives; export its members too",
    ),
    (
        google_page(google_member("1", None, "GROUP")),
        "google export: eng.json: members[0] has no email",
    ),
    (
        google_page(google_member(None, None)),
        "google export: eng.json: members[0] has neither an id nor an email",
    ),
    (
        google_page(google_member("1", "a@x.io", status=0)),
        "google export: eng.json: members[0]: status is not a string",
    ),
    (
        google_page(google_member("1", "a@x.io"), token="CjMKGGZp"),
        "google export: group 'eng@example.com': eng.json gives a nextPageToken, so more pages"
        " follow it; export them too and list every page under 'files'",
    ),
    (
        {"kind": "admin#directory#members", "members": None},
        "google export: eng.json: members is not a list",
    ),
]


@pytest.mark.parametrize(("page", "message"), GOOGLE_ERRORS)
def test_google_errors(tmp_path: Path, page: object, message: str) -> None:
    with pytest.raises(SourceError) as raised:
        google_directory(tmp_path, {"eng@example.com": page})
    assert str(raised.value) == message


def test_one_google_group_given_twice_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as raised:
        google_directory(
            tmp_path, {"eng@example.com": google_page(), "Eng@Example.com": google_page()}
        )
    assert str(raised.value) == (
        "google export: 'files' gives one group twice: 'eng@example.com' and 'Eng@Example.com'"
        " (emails are the same in any case)"
    )


# --- files that are not files ---------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
@pytest.mark.parametrize(
    ("reader", "settings", "message"),
    [
        (read_csv, {"kind": "csv", "path": "pipe"}, "csv export pipe: not a regular file (a FIFO)"),
        (
            read_graph,
            {"kind": "graph", "files": {"Eng": "pipe"}},
            "graph export: pipe: not a regular file (a FIFO)",
        ),
        (
            read_google,
            {"kind": "google", "files": {"e@x.io": ["pipe"]}},
            "google export: pipe: not a regular file (a FIFO)",
        ),
    ],
)
def test_a_fifo_is_refused_not_waited_on(
    tmp_path: Path, reader: Reader, settings: Mapping[str, Any], message: str
) -> None:
    os.mkfifo(tmp_path / "pipe")  # nothing ever writes to it: reading it would wait forever
    with pytest.raises(SourceError) as raised:
        read(reader, settings, tmp_path)
    assert str(raised.value) == message


def test_a_folder_a_missing_file_and_a_dangling_link(tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "link").symlink_to("gone.csv")
    expected = {
        "folder": "csv export folder: not a regular file (a directory)",
        "missing.csv": "csv export missing.csv: no such file or directory",
        "link": "csv export link: a symbolic link to gone.csv, which does not exist",
    }
    for path, message in expected.items():
        with pytest.raises(SourceError) as raised:
            read(read_csv, {"kind": "csv", "path": path}, tmp_path)
        assert str(raised.value) == message


def test_a_file_larger_than_an_export_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(common, "MAX_EXPORT_BYTES", 2048)
    write(
        tmp_path, {"eng.json": graph_page(*[graph_user(str(n), None, "u@x.io") for n in range(40)])}
    )
    with pytest.raises(SourceError) as raised:
        read(read_graph, {"kind": "graph", "files": {"Eng": "eng.json"}}, tmp_path)
    assert str(raised.value) == "graph export: eng.json: larger than the 2 KiB roster reads"


def test_paths_are_relative_to_the_roster_file_and_absolute_paths_stay(tmp_path: Path) -> None:
    write(tmp_path, {"exports/groups.csv": "group,member\nEng,a@x.io\n"})
    absolute = str(tmp_path / "exports" / "groups.csv")
    assert (
        read(read_csv, {"kind": "csv", "path": "exports/groups.csv"}, tmp_path)[0].describe
        == "csv export exports/groups.csv"
    )
    directory = read(read_csv, {"kind": "csv", "path": absolute}, DATA)[0]
    assert directory.people["a@x.io"].where == f"{absolute}:2"


def test_no_progress_is_told_without_a_listener() -> None:
    settings = {"kind": "graph", "files": GRAPH_FILES}
    assert read_graph(settings, wanted=(), base=DATA, env={}) == read(read_graph, settings)[0]
