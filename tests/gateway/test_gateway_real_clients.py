"""Real client tooling against the exported schema and the served gateway: Relay, Apollo, codegen.

relay-compiler and graphql-codegen read `gateway/schema.graphql` as front ends do at build time;
Relay's runtime commits the compiled mutations, and Apollo Client pages and caches, through the
gateway in front of the real svc_tasks.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.support.gateway.gateway_harness import (
    GET,
    LIST,
    GatewayClient,
    create_task,
    make_config,
    serving,
    token_for,
)
from tests.support.infra import RunningTasks
from tests.support.node_tools import npm_ci, package_bin, run_node

# It starts the platform's own processes (or real JavaScript clients) itself.
pytestmark = pytest.mark.integration

REPO = Path(__file__).parent.parent.parent
CLIENTS = REPO / "tests" / "clients"
RELAY = CLIENTS / "relay"
# What relay-compiler makes of tests/clients/relay/src: an artifact per operation and fragment,
# with a query of its own for each @refetchable fragment.
RELAY_OPERATIONS = {
    "TaskDetailQuery",  # node(id:)
    "TaskListQuery",
    "TaskListPaginationQuery",  # made for the @connection fragment's @refetchable
    "TaskRowRefetchQuery",  # made for the row's @refetchable, through node(id:)
    "TaskRowRenameMutation",  # updateTask
    "TaskRowCompleteMutation",
    "TaskRowDeleteMutation",  # with @deleteEdge
    "TaskListCreateMutation",  # with @prependNode
}
RELAY_MUTATIONS = {name for name in RELAY_OPERATIONS if name.endswith("Mutation")}
RELAY_FRAGMENTS = {"TaskList_query", "TaskRow_task"}
# What graphql-codegen names the types of the documents in tests/clients/relay/src.
CODEGEN_TYPES = {
    "TaskDetailQuery",
    "TaskDetailQueryVariables",
    "TaskListQuery",
    "TaskListQueryVariables",
    "TaskList_QueryFragment",
    "TaskRowRenameMutation",
    "TaskRowRenameMutationVariables",
    "TaskRowCompleteMutation",
    "TaskRowCompleteMutationVariables",
    "TaskRowDeleteMutation",
    "TaskRowDeleteMutationVariables",
    "TaskListCreateMutation",
    "TaskListCreateMutationVariables",
    "TaskRow_TaskFragment",
    # Declared by typescript-operations for the operations that use them.
    "CreateTaskInput",
    "UpdateTaskInput",
    "UserErrorCode",
}
# What every compiled mutation selects from its payload: why a form's input was refused.
USER_ERRORS_SELECTION = "userErrors {\n      field\n      message\n      code\n    }"
# A relay-compiler artifact's path under the project: src/__generated__/NAME.graphql.ts.
GENERATED = Path("src") / "__generated__"
_OPERATION_TEXT = re.compile(r'"text": ("(?:[^"\\]|\\.)*")')


@pytest.fixture(scope="session")
def node_modules() -> Path:
    """tests/clients with its npm packages installed (once per session, shared by xdist workers)."""
    return npm_ci(CLIENTS)


def copy_relay_project(root: Path) -> Path:
    """tests/clients/relay and the schema its config names, copied under `root` as they sit here.

    relay-compiler writes its artifacts next to the sources and reads the schema by a path
    relative to its config: the copy keeps the path true without writing into the checkout.
    """
    config = json.loads((RELAY / "relay.config.json").read_text())
    schema = (RELAY / config["schema"]).resolve()
    assert schema == REPO / "gateway" / "schema.graphql"  # the committed, exported schema
    project = root / RELAY.relative_to(REPO)
    shutil.copytree(RELAY, project, ignore=shutil.ignore_patterns("__generated__"))
    (root / "gateway").mkdir()
    shutil.copyfile(schema, root / schema.relative_to(REPO))
    return project


@pytest.fixture(scope="module")
async def relay_project(node_modules: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/clients/relay compiled by relay-compiler in a temp dir: its artifacts in GENERATED."""
    project = copy_relay_project(tmp_path_factory.mktemp("relay"))
    await run_node(package_bin(node_modules, "relay-compiler"), "--output", "quiet", cwd=project)
    return project


@pytest.fixture(scope="module")
def relay_artifacts(relay_project: Path) -> dict[str, str]:
    """relay-compiler's artifacts for tests/clients/relay: name to text."""
    return {
        path.name.removesuffix(".graphql.ts"): path.read_text()
        for path in (relay_project / GENERATED).glob("*.graphql.ts")
    }


def operation_text(artifact: str) -> str:
    """The GraphQL document an operation's artifact sends to the server."""
    match = _OPERATION_TEXT.search(artifact)
    assert match is not None, artifact
    text: str = json.loads(match.group(1))
    return text


async def test_relay_compiler_compiles_pagination_refetch_and_node_operations(
    relay_artifacts: dict[str, str],
) -> None:
    assert set(relay_artifacts) == RELAY_OPERATIONS | RELAY_FRAGMENTS
    pagination = operation_text(relay_artifacts["TaskListPaginationQuery"])
    assert "tasks(first: $first, after: $after, filter: $filter, orderBy: $orderBy)" in pagination
    assert "cursor" in pagination  # added by @connection
    assert "pageInfo {\n      endCursor\n      hasNextPage\n    }" in pagination
    # Relay refetches a Node by `node(id:)`: the schema passed its Node interface checks.
    assert "node(id: $id) {\n    __typename\n    ...TaskRow_task" in operation_text(
        relay_artifacts["TaskRowRefetchQuery"]
    )
    assert (
        "export type TaskListPaginationQuery$variables"
        in relay_artifacts["TaskListPaginationQuery"]
    )


async def test_relay_compiler_compiles_the_mutations_to_the_payload_convention(
    relay_artifacts: dict[str, str],
) -> None:
    """Each mutation sends one `$input` and selects the payload's object and its userErrors; the
    schema passes the checks of Relay's declarative connection directives."""
    for name in RELAY_MUTATIONS:
        text = operation_text(relay_artifacts[name])
        assert re.search(r"\(\n  \$input: \w+Input!\n\)", text), text  # $connections is client-only
        assert "(input: $input) {" in text
        assert USER_ERRORS_SELECTION in text
    # The row's fragment inside the payload's `task`: Relay updates the record by its id.
    assert "task {\n      ...TaskRow_task\n      id\n    }" in operation_text(
        relay_artifacts["TaskRowRenameMutation"]
    )
    create = relay_artifacts["TaskListCreateMutation"]
    assert "task {\n      id\n      ...TaskRow_task\n    }" in operation_text(create)
    assert '"handle": "prependNode"' in create
    assert '"value": "TaskEdge"' in create  # edgeTypeName, a type the schema has
    delete = relay_artifacts["TaskRowDeleteMutation"]
    assert "deletedTaskId\n" in operation_text(delete)
    assert '"handle": "deleteEdge"' in delete
    # Relay's generated types know the codes a form tells apart.
    assert re.search(r'export type UserErrorCode = "\w+" \| .*"CONFLICT" \| ', create)
    assert "readonly code: UserErrorCode;" in create
    # Written with `import type` only (relay.config.json), so Node can run them as they are.
    assert not re.search(r"^import (?!type )\{", create, re.MULTILINE)


async def test_relays_compiled_operations_run_against_the_gateway(
    relay_artifacts: dict[str, str], gateway_client: GatewayClient
) -> None:
    """What Relay's runtime would send, as relay-compiler wrote it, answered by svc_tasks."""
    texts = {name: operation_text(relay_artifacts[name]) for name in RELAY_OPERATIONS}
    for title in ("relay 3", "relay 1", "relay 2"):
        await create_task(gateway_client, title=title, tags=["relay"])
    await create_task(gateway_client, title="relay 0, untagged")
    variables: dict[str, Any] = {
        "first": 2,
        "filter": {"tags": ["relay"]},
        "orderBy": [{"field": "TITLE", "direction": "ASC"}],
    }
    first = (await gateway_client.data(texts["TaskListQuery"], variables))["tasks"]
    assert first["totalCount"] == 3
    assert [edge["node"]["title"] for edge in first["edges"]] == ["relay 1", "relay 2"]
    assert first["pageInfo"] == {"endCursor": first["edges"][-1]["cursor"], "hasNextPage": True}
    variables["after"] = first["pageInfo"]["endCursor"]
    rest = (await gateway_client.data(texts["TaskListPaginationQuery"], variables))["tasks"]
    assert [edge["node"]["title"] for edge in rest["edges"]] == ["relay 3"]
    assert rest["pageInfo"]["hasNextPage"] is False

    task = first["edges"][0]["node"]
    refetched = await gateway_client.data(texts["TaskRowRefetchQuery"], {"id": task["id"]})
    assert refetched["node"] == task
    renamed = await gateway_client.data(
        texts["TaskRowRenameMutation"],
        {
            "input": {
                "clientMutationId": "rename-1",
                "id": task["id"],
                "expectedVersion": task["version"],
                "title": "relay 1, renamed",
            }
        },
    )
    fields = {name: value for name, value in task.items() if name != "__typename"}
    assert renamed["updateTask"] == {  # no __typename: Relay asks for it on abstract types only
        "clientMutationId": "rename-1",
        "task": {**fields, "title": "relay 1, renamed", "version": task["version"] + 1},
        "userErrors": [],
    }
    detail = await gateway_client.data(texts["TaskDetailQuery"], {"id": task["id"]})
    assert detail["node"]["__typename"] == "Task"
    assert detail["node"]["title"] == "relay 1, renamed"


async def test_relays_runtime_commits_the_mutations_and_its_store_follows_the_payloads(
    relay_project: Path, tasks_service: RunningTasks, gateway_client: GatewayClient
) -> None:
    """Relay's own runtime, with relay-compiler's artifacts, as a task page would use it: each
    payload's `task` updates the record by id (a STALE_VERSION one too), @prependNode and
    @deleteEdge follow createTask and deleteTask, a refused input leaves the store as it was."""
    for title in ("relay 3", "relay 1", "relay 2"):
        await create_task(gateway_client, title=title, tags=["relay"])
    await create_task(gateway_client, title="relay 0, untagged")
    config = make_config(tasks_service.address, internal_secret=tasks_service.secret)
    async with serving(config) as ws_url:
        output = await run_node(
            CLIENTS / "relay_mutations.mjs",
            ws_url.replace("ws://", "http://"),
            str(relay_project / GENERATED),
            "relay",
            env={"GRAPHQL_AUTHORIZATION": f"Bearer {token_for(gateway_client.user)}"},
        )
    run = json.loads(output)
    steps = run["steps"]

    listed = run["listed"]
    assert [task["title"] for task in listed] == ["relay 1", "relay 2", "relay 3"]
    target = listed[1]

    create = steps["create"]
    created = create["response"]["createTask"]
    assert (created["clientMutationId"], created["userErrors"]) == ("create-1", [])
    new_task = {"id": created["task"]["id"], "title": "relay 0, new", "status": "OPEN"}
    assert create["record"] == {**new_task, "version": 1}
    assert create["listed"] == [create["record"], *listed]  # prepended, as the form asked

    refused = steps["refused"]
    assert refused["errors"] is None
    payload = refused["response"]["createTask"]
    assert (payload["clientMutationId"], payload["task"]) == ("create-2", None)
    assert sorted((error["field"], error["code"]) for error in payload["userErrors"]) == [
        (["input", "description"], "INVALID"),
        (["input", "timeZone"], "INVALID"),
        (["input", "title"], "INVALID"),
    ]
    assert refused["listed"] == create["listed"]  # no edge for a task that was not created

    rename = steps["rename"]
    assert rename["response"]["updateTask"]["userErrors"] == []
    # The row's fields are the fragment's, masked from the mutation: the store has them.
    assert rename["response"]["updateTask"]["task"] is not None
    renamed = {**target, "title": "relay 2, renamed", "version": target["version"] + 1}
    assert rename["record"] == renamed
    assert rename["listed"] == [create["record"], listed[0], renamed, listed[2]]

    stale = steps["stale"]
    assert stale["elsewhere"]["status"] == 200
    current_version = stale["elsewhere"]["body"]["data"]["updateTask"]["task"]["version"]
    assert current_version == renamed["version"] + 1
    [error] = stale["response"]["updateTask"]["userErrors"]
    assert (error["field"], error["code"]) == (["input", "expectedVersion"], "STALE_VERSION")
    # The payload's current task replaced the stale record: the form can show what changed.
    current = {**target, "title": "relay 2, renamed elsewhere", "version": current_version}
    assert stale["record"] == current

    complete = steps["complete"]
    assert complete["response"]["completeTask"]["userErrors"] == []
    assert complete["record"] == {**new_task, "status": "COMPLETED", "version": 2}

    delete = steps["delete"]
    assert delete["response"]["deleteTask"] == {"deletedTaskId": target["id"], "userErrors": []}
    assert delete["listed"] == [complete["record"], listed[0], listed[2]]
    again = steps["deleteAgain"]
    [error] = again["response"]["deleteTask"]["userErrors"]
    assert again["response"]["deleteTask"]["deletedTaskId"] is None
    assert (error["field"], error["code"]) == (["input", "id"], "NOT_FOUND")
    assert again["listed"] == delete["listed"]

    assert run["requests"] == [  # refusals are data: every answer is 200 without errors
        {"name": name, "status": 200, "errors": None}
        for name in [
            "TaskListQuery",
            "TaskListCreateMutation",
            "TaskListCreateMutation",
            "TaskRowRenameMutation",
            "TaskRowRenameMutation",
            "TaskRowCompleteMutation",
            "TaskRowDeleteMutation",
            "TaskRowDeleteMutation",
        ]
    ]
    stored = await gateway_client.data(
        LIST, {"filter": {"tags": ["relay"]}, "orderBy": [{"field": "TITLE", "direction": "ASC"}]}
    )
    assert [edge["node"]["title"] for edge in stored["tasks"]["edges"]] == [
        "relay 0, new",
        "relay 1",
        "relay 3",
    ]


async def test_graphql_codegen_types_the_operations_and_tsc_accepts_them(
    node_modules: Path, tmp_path: Path
) -> None:
    """The generated types, and a form typed by them (tests/clients/forms: it reads
    ../__generated__, where codegen.yml writes by default), type-check under --strict."""
    generated = tmp_path / "__generated__"
    await run_node(
        package_bin(node_modules, "@graphql-codegen/cli", "graphql-codegen"),
        "--config",
        "codegen.yml",
        cwd=CLIENTS,
        env={"CODEGEN_OUTPUT": str(generated)},
    )
    schema, operations = generated / "schema.ts", generated / "operations.ts"
    schema_types = schema.read_text()
    assert "export type Task = Node & {" in schema_types
    assert "export type UserError = {" in schema_types
    assert "export type UserErrorCode =" in schema_types
    assert "readonly task?: Maybe<Task>;" in schema_types  # payloads hold the task, nullable
    exported = set(re.findall(r"^export type (\w+)", operations.read_text(), re.MULTILINE))
    assert exported >= CODEGEN_TYPES
    shutil.copytree(CLIENTS / "forms", tmp_path / "forms")
    await run_node(
        package_bin(node_modules, "typescript", "tsc"),
        "--noEmit",
        "--strict",
        str(schema),
        str(operations),
        *(str(path) for path in sorted((tmp_path / "forms").glob("*.ts"))),
        cwd=tmp_path,
    )


async def test_apollo_client_pages_with_relay_style_pagination_and_updates_its_cache(
    node_modules: Path, tasks_service: RunningTasks, gateway_client: GatewayClient
) -> None:

    titles = [f"apollo {n}" for n in range(1, 7)]
    created: dict[str, str] = {}
    for title in (titles[3], titles[0], titles[5], titles[1], titles[4], titles[2]):
        created[title] = (await create_task(gateway_client, title=title, tags=["apollo"]))["id"]
    await create_task(gateway_client, title="apollo 3 and a half", tags=["other"])
    expected = [created[title] for title in titles]
    config = make_config(tasks_service.address, internal_secret=tasks_service.secret)
    async with serving(config) as ws_url:
        output = await run_node(
            CLIENTS / "apollo_relay_pagination.mjs",
            ws_url.replace("ws://", "http://"),
            "apollo",
            "3",
            "apollo 2, renamed",
            env={"GRAPHQL_AUTHORIZATION": f"Bearer {token_for(gateway_client.user)}"},
        )
    run = json.loads(output)

    pages = run["pages"]
    assert [page["ids"] for page in pages] == [expected[:3], expected[3:]]
    for page in pages:
        assert page["pageInfo"]["startCursor"] == page["cursors"][0]
        assert page["pageInfo"]["endCursor"] == page["cursors"][-1]
    assert [page["pageInfo"]["hasNextPage"] for page in pages] == [True, False]
    assert run["merged"]["ids"] == expected  # each task once, in order
    assert run["merged"]["cursors"] == pages[0]["cursors"] + pages[1]["cursors"]
    assert run["merged"]["pageInfo"]["hasNextPage"] is False
    assert run["mergedTitles"] == titles
    assert run["requests"] == [  # two pages, the rename, and nothing refetched
        {"operationName": "TaskPages", "after": None, "status": 200},
        {"operationName": "TaskPages", "after": pages[0]["pageInfo"]["endCursor"], "status": 200},
        {"operationName": "RenameTask", "after": None, "status": 200},
    ]

    rename = run["rename"]
    assert rename["id"] == expected[1]
    assert rename["cacheId"] == f"Task:{expected[1]}"
    assert rename["mutation"]["clientMutationId"] == "rename-1"
    assert rename["mutation"]["userErrors"] == []
    version = rename["mutation"]["task"]["version"]
    assert rename["fragment"] == {
        "__typename": "Task",
        "title": "apollo 2, renamed",
        "version": version,
    }
    renamed_titles = [titles[0], "apollo 2, renamed", *titles[2:]]
    assert rename["watchedTitles"] == renamed_titles  # the watched list, from the cache
    assert rename["cachedQueryTitles"] == renamed_titles
    stored = (await gateway_client.data(GET, {"id": expected[1]}))["task"]
    assert (stored["title"], stored["version"]) == ("apollo 2, renamed", version)
