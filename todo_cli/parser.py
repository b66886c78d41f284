"""The `todo` command line: every command's flags and its --help (what it does, what it starts or
changes, and the environment variables it reads, named from the constants the code reads them
by wherever such a constant exists)."""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Iterable, Sequence
from typing import Any, Final

from todo_cli import audit_verify, check, components, settings, stack_state, up
from todo_runtime import endpoints, metrics, topics
from todo_runtime.config import Env
from todo_runtime.kafka_settings import SECURITY_VARIABLES
from todo_runtime.logs import FORMAT_ENV

OPERATIONS_DOC: Final = "docs/operations.md#environment-variables"
_SERVICE_ENDPOINTS: Final = tuple(service.component.endpoint for service in components.SERVICES)

Row = tuple[str | Sequence[str], str]  # a variable's name (or several), and what it is for
Rows = Iterable[Row]
_WIDTH: Final = 78


def environment(*rows: Rows) -> str:
    """An epilog listing the variables a command reads: their names, then what they are for."""
    lines = ["environment variables:"]
    for names, meaning in (row for group in rows for row in group):
        listed = names if isinstance(names, str) else ", ".join(names)
        lines += textwrap.wrap(listed, _WIDTH, initial_indent="  ", subsequent_indent="  ")
        lines += textwrap.wrap(meaning, _WIDTH, initial_indent="      ", subsequent_indent="      ")
    return "\n".join(lines)


def _data_dir() -> Rows:
    return [
        (settings.DATA_DIR_ENV, "the local stack's data directory (default ~/.local/share/todo)")
    ]


def _database(command: str) -> Rows:
    return [
        (
            stack_state.DATABASE_ENV,
            f"the PostgreSQL {command} uses; unset: the running `todo up`'s embedded one, else "
            "exit 2",
        ),
        (("PGSSLMODE", "PGSSLROOTCERT"), "TLS to PostgreSQL (read by asyncpg, as by libpq)"),
        *_data_dir(),
    ]


def _kafka(command: str, *extra: tuple[str, str]) -> Rows:
    return [
        (
            stack_state.BROKER_ENV,
            f"the brokers {command} uses; unset: the running `todo up`'s embedded one, else exit 2",
        ),
        (
            SECURITY_VARIABLES,
            "TLS and SASL to the brokers (KAFKA_SECURITY_PROTOCOL says which apply)",
        ),
        *extra,
        *_data_dir(),
    ]


def _gateway_url(default: str) -> Rows:
    gateway = endpoints.GATEWAY
    return [
        (gateway.addr_env, f"the gateway (a base URL or host:port); {default}"),
        (
            gateway.port_env,
            f"unset {gateway.addr_env}: 127.0.0.1 on this port (default {gateway.default_port})",
        ),
    ]


def _service_addresses() -> Rows:
    return [
        (
            [e.addr_env for e in _SERVICE_ENDPOINTS],
            "where each service answers (host:port)",
        ),
        (
            [e.port_env for e in _SERVICE_ENDPOINTS],
            "unset *_ADDR: 127.0.0.1 on this port (defaults "
            + ", ".join(str(e.default_port) for e in _SERVICE_ENDPOINTS)
            + ")",
        ),
    ]


def _subcommand(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    summary: str,
    description: str,
    *variables: Rows,
) -> argparse.ArgumentParser:
    return commands.add_parser(
        name,
        help=summary,
        description=textwrap.fill(description, _WIDTH),
        epilog=environment(*variables) if variables else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def version_text() -> str:
    """`todo --version`: the installed version, and the source revision when it is known."""
    revision = metrics.revision(Env())
    known = f" (revision {revision})" if revision != metrics.UNKNOWN else ""
    return f"todo {metrics.version()}{known}"


class _Version(argparse.Action):
    """`--version`, worked out only when asked for (argparse's own takes the text up front)."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        print(version_text())  # stdout, as argparse's own version action
        parser.exit()


def build() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="todo",
        description="The todo platform's command: run it on this machine (`todo up`), run one "
        "component (`todo serve`), and operate a deployment.",
        epilog="`todo COMMAND --help` says what each command does and which environment "
        f"variables it reads; every variable: {OPERATIONS_DOC}.",
    )
    parser.add_argument(
        "--version", action=_Version, nargs=0, help="print the version and the source revision"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up_parser = _subcommand(
        commands,
        "up",
        "run the whole stack on this machine",
        "Runs the whole stack on this machine until Ctrl-C: PostgreSQL (embedded, its files in "
        "the data directory, unless DATABASE_URL), a Kafka-protocol broker (embedded Tansu, in "
        "memory, unless KAFKA_BOOTSTRAP_SERVERS), then every component, each a process that is "
        "restarted when it dies. Prints each part's address as it becomes ready. Writes logs, "
        "secrets.json, audit-public-key and, while it runs, stack.json (the embedded servers, "
        "for `todo migrate` and the other operator commands) to the data directory.",
        [
            (stack_state.DATABASE_ENV, "a PostgreSQL of yours instead of the embedded one"),
            (stack_state.BROKER_ENV, "a broker of yours instead of the embedded one"),
            (
                SECURITY_VARIABLES,
                "the Kafka security settings of a broker of yours, passed to every part "
                "(refused without KAFKA_BOOTSTRAP_SERVERS)",
            ),
            (up.BROKER_PORT_ENV, f"the embedded broker's port (default {up.DEFAULT_BROKER_PORT})"),
            (up.BIND_HOST_ENV, "the host the components listen on (default 127.0.0.1)"),
            (
                [c.endpoint.port_env for c in components.COMPONENTS],
                "each component's port",
            ),
            (
                metrics.PORT_ENV,
                "serve metrics: the first component's port, each next component the next one "
                "(unset: none)",
            ),
            (list(settings.SECRET_VARIABLES), "used as given; unset: generated once"),
            (FORMAT_ENV, "log format (default text under `todo up`)"),
            *_data_dir(),
        ],
        [("(every other variable)", "passed on to every component")],
    )
    up_parser.add_argument(
        "--without",
        action="append",
        default=[],
        choices=sorted(components.BY_NAME),
        help="leave this component out (run it yourself with `todo serve`); repeatable",
    )

    serve_parser = _subcommand(
        commands,
        "serve",
        "run one component (as a container does)",
        "Runs one component in the foreground until SIGTERM: what a container runs. A service "
        "migrates its schema and creates its missing topics at start; nothing else is started.",
        [
            (stack_state.DATABASE_ENV, "PostgreSQL (required by the services)"),
            (stack_state.BROKER_ENV, "the brokers (required by the services)"),
            (SECURITY_VARIABLES, "TLS and SASL to the brokers"),
            (list(settings.SECRET_VARIABLES), "the secrets (each component its own)"),
            (
                [c.endpoint.port_env for c in components.COMPONENTS],
                "the port it listens on",
            ),
            (
                [e.addr_env for e in _SERVICE_ENDPOINTS],
                "where it reaches another service (host:port; unset: 127.0.0.1 on that "
                "service's port)",
            ),
            (metrics.PORT_ENV, "serve Prometheus metrics on this port (unset: none)"),
            (metrics.REVISION_ENV, "the source revision todo_build_info reports"),
            (FORMAT_ENV, "log format: json (default) or text"),
            ("(many more)", OPERATIONS_DOC),
        ],
    )
    serve_parser.add_argument("component", choices=sorted(components.BY_NAME))

    token_parser = _subcommand(
        commands,
        "token",
        "print a development JWT for USER",
        "Prints a bearer token for USER signed with the local stack's secret (from the "
        "environment, else the data directory's secrets.json, generated on first use). "
        "Changes nothing else.",
        [
            (list(settings.SECRET_VARIABLES), "the secrets; unset: secrets.json"),
            (endpoints.GATEWAY.port_env, "the gateway's port in the --url link"),
            *_data_dir(),
        ],
    )
    token_parser.add_argument("user")
    token_parser.add_argument(
        "--ttl", type=int, default=24 * 3600, help="lifetime in seconds (default one day)"
    )
    token_parser.add_argument(
        "--url",
        action="store_true",
        help="print a link to the task board that signs a browser in as USER",
    )
    token_parser.add_argument(
        "--grpc",
        action="store_true",
        help="print grpcurl -H flags for calling a service directly (valid 5 minutes)",
    )

    _subcommand(
        commands,
        "migrate",
        "apply every component's database migrations, then exit",
        "Applies every component's pending database migrations (each component's schema) and "
        "exits: the chart's migration Job. Safe to run again.",
        _database("todo migrate"),
    )
    _subcommand(
        commands,
        "topics",
        "create every missing topic, then exit",
        "Creates every topic of the system that is missing, dead-letter topics included, and "
        "exits: the chart's topic Job. Existing topics are left as they are.",
        _kafka(
            "todo topics",
            ("TODO_TOPIC_PARTITIONS", "partitions of a new topic (default 3)"),
            ("TODO_TOPIC_REPLICATION", "replication factor of a new topic (default 1)"),
        ),
    )
    replay_parser = _subcommand(
        commands,
        "replay",
        "publish again every retained event created since a time",
        "Queues every retained event created since --since for publishing again (each "
        "service's outbox relay sends it); consumers skip what they already applied.",
        _database("todo replay"),
    )
    replay_parser.add_argument(
        "--since", required=True, help="ISO 8601 time, e.g. 2026-11-30T08:00Z"
    )

    dlq_parser = _subcommand(
        commands, "dlq", "dead-letter topics", "Dead-letter topics: `todo dlq replay`."
    )
    dlq_commands = dlq_parser.add_subparsers(dest="dlq_command", required=True)
    dlq_replay_parser = _subcommand(
        dlq_commands,
        "replay",
        "send dead letters back to their topic",
        "Sends the records of <topic>.dlq (default: every consumed topic's) back to <topic>, "
        "each once, committing its progress in the consumer group todo-dlq-replay.",
        _kafka(
            "todo dlq replay",
            (
                "TODO_KAFKA_SESSION_TIMEOUT_MS",
                "its consumer's group session timeout (default 6000)",
            ),
        ),
    )
    dlq_replay_parser.add_argument(
        "--topic", choices=sorted(set(topics.ALL_TOPICS)), help="default: every consumed topic"
    )

    audit_parser = _subcommand(
        commands, "audit", "your task history's audit log", "The audit log: `todo audit verify`."
    )
    audit_commands = audit_parser.add_subparsers(dest="audit_command", required=True)
    verify_parser = _subcommand(
        audit_commands,
        "verify",
        "check your entries against the signed log, trusting no server (exit 1 if not ok)",
        "Checks your audit entries against the signed log and the checkpoint it verified last, "
        "trusting no server: exit 0 verified, 1 failed, 2 could not run. Keeps the checkpoint "
        "(and any key rotation it followed) in the data directory for the next run.",
        [
            (audit_verify.TOKEN_ENV, "your bearer token, unless --token or --user"),
            (audit_verify.PUBLIC_KEY_ENV, "the public key to trust, unless --public-key"),
            *_gateway_url("unless --url"),
            ("TODO_JWT_SECRET", "with --user: the local stack's secret, else secrets.json"),
            *_data_dir(),
        ],
    )
    verify_parser.add_argument("--url", help="the GraphQL endpoint (default: the local gateway)")
    verify_parser.add_argument(
        "--token", help=f"your bearer token (default: ${audit_verify.TOKEN_ENV})"
    )
    verify_parser.add_argument(
        "--user", help="on the local stack: sign a token for USER instead of giving one"
    )
    verify_parser.add_argument(
        "--public-key",
        metavar="FILE",
        help=f"the log's public key to trust (default: ${audit_verify.PUBLIC_KEY_ENV}, else "
        f"{audit_verify.PUBLIC_KEY_FILE} in the data directory, which `todo up` writes)",
    )

    check_parser = _subcommand(
        commands,
        "check",
        "check that the gateway and every service serve (the chart's helm test)",
        "Sends one GraphQL query through the gateway (auth and svc_tasks) and asks every "
        "service for its gRPC health (grpc.health.v1, the empty name: readiness), all at "
        "once. Prints one line per check; exit 0 when all passed, 1 otherwise. Changes nothing.",
        [
            (check.CHECK_TOKEN_ENV, "the bearer token to send as it is (RS256 deployments)"),
            (
                check.JWT_SECRET_ENV,
                f"unset {check.CHECK_TOKEN_ENV}: mint an HS256 token for user {check.CHECK_USER} "
                "(neither set: with a running `todo up`'s own secret)",
            ),
            *_data_dir(),
            (check.AUDIENCE_ENV, "the minted token's audience (`aud`), as the gateway requires"),
            (check.ISSUER_ENV, "the minted token's issuer (`iss`), as the gateway requires"),
            *_gateway_url(f"default 127.0.0.1:{endpoints.GATEWAY.default_port}"),
            *_service_addresses(),
        ],
    )
    check_parser.add_argument(
        "--timeout",
        type=float,
        default=check.DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"deadline of each check (default {check.DEFAULT_TIMEOUT:g})",
    )
    check_parser.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=check.NAMES,
        metavar="PART",
        help=f"leave out a part the release does not run (repeatable; one of: "
        f"{', '.join(check.NAMES)})",
    )
    return parser
