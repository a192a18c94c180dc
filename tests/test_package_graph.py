"""The import graph between atende's packages follows the intended direction:

    workspace, the composition modules → connectors/<kind> → tickets
        → channels, contacts, automation, realtime, webhooks → tenancy

and a package never imports one above it. Read from the source with `ast`, not by importing:
every import statement counts wherever it is (module level, inside a function, under
`if TYPE_CHECKING:`): a lazy or type-only import is still a dependency, and making it lazy
only hides a cycle from the interpreter. Migrations are left out (Django writes them, and
they name other apps by label, not by import).

The nodes of the graph:

- each subpackage of atende (`tickets`, `channels`, ...), with each connector kind a node
  of its own (`connectors.email`, ...) beside the `connectors` app shell;
- each top-level module, classified below as either
  - COMPOSITION: wires the packages together (URLs, the API object, settings, the jobs,
    the command line, the servers); may import anything, and no package imports it;
  - SHARED: a small utility any package may import; imports no domain package, except
    `events`, the one seam that fans a domain event out to realtime and webhooks (it sits
    between the packages that emit events and those two, which never import it back).

Choosing an implementation by a dotted path in settings (`import_string`: the connector
registry, the realtime broker) is the intended inversion and not an import edge here.
"""

from __future__ import annotations

import ast
import graphlib
import itertools
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = SRC / "atende"

COMPOSITION = {"admin_site", "api", "apps", "asgi", "cli", "demo", "health", "jobs",
               "management", "settings", "supervisor", "sync_middleware", "urls", "webserver",
               "wsgi"}
SHARED = {"api_errors", "backoff", "bulk_insert", "bulk_update", "client_address", "crypto",
          "errors", "events", "ids", "json_input", "net", "redis_cache", "stored_files"}
# The domain packages a shared module may import (none, but for the documented seam).
SHARED_MAY_IMPORT = {"events": {"realtime", "webhooks"}}

# The layers of the domain packages, lowest first: a package imports only its own layer
# or lower ones (two packages of one layer may depend on each other one way, never both:
# see the cycle test).
LAYERS = [
    {"tenancy"},
    {"channels", "contacts", "automation", "realtime", "webhooks", "fulltext"},
    {"tickets", "kb"},
    {"connectors", "connectors.api", "connectors.email", "connectors.telegram",
     "connectors.whatsapp", "connectors.portal", "connectors.consumidor_gov",
     "connectors.webchat", "connectors.voice", "connectors.meta_messaging", "csat",
     "search"},
    {"workspace", "reports"},
]
RANK = {name: rank for rank, layer in enumerate(LAYERS) for name in layer}
BELOW_CONNECTORS = {"tickets", "channels", "contacts", "tenancy", "realtime", "webhooks",
                    "automation", "fulltext", "kb"}


@dataclass(frozen=True)
class Import:
    source: str  # node importing
    target: str  # node imported
    where: str  # file:line


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def node_of(module: str) -> str | None:
    """The graph node of a dotted module name inside atende (None for `atende` itself)."""
    parts = module.split(".")
    if parts[0] != "atende" or len(parts) == 1:
        return None
    if parts[1] == "connectors" and len(parts) > 2 and (PACKAGE / "connectors" / parts[2]).is_dir():
        return f"connectors.{parts[2]}"
    return parts[1]


def imported_modules(tree: ast.AST, package: str) -> Iterator[tuple[str, int]]:
    """Every module an import statement anywhere in `tree` names, with its line; for
    `from a.b import c` both `a.b` and `a.b.c` (c may be a module)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            yield module, node.lineno
            for alias in node.names:
                yield f"{module}.{alias.name}", node.lineno


def source_files() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)


def collect_imports() -> list[Import]:
    found: dict[tuple[str, str, str], Import] = {}
    for path in source_files():
        module = module_name(path)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        source = node_of(module) or "atende"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for imported, line in imported_modules(tree, package):
            target = node_of(imported)
            if target is None or target == source:
                continue
            where = f"src/{path.relative_to(SRC)}:{line}"
            found.setdefault((source, target, where), Import(source, target, where))
    return list(found.values())


IMPORTS = collect_imports()


def edges() -> dict[tuple[str, str], list[str]]:
    result: dict[tuple[str, str], list[str]] = {}
    for imp in IMPORTS:
        result.setdefault((imp.source, imp.target), []).append(imp.where)
    return result


def describe(found: list[Import]) -> str:
    return "\n".join(f"  {i.source} -> {i.target}  ({i.where})" for i in found)


def test_the_scanner_sees_lazy_and_type_only_imports() -> None:
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from atende.tickets.models import Ticket\n"
        "def f():\n    from ..connectors.email import mime\n    import atende.workspace\n"
    )
    found = {node_of(m) for m, _ in imported_modules(tree, "atende.contacts")}
    assert {"tickets", "connectors.email", "workspace"} <= found


def test_no_cycle_between_packages() -> None:
    graph: dict[str, set[str]] = {}
    for source, target in edges():
        graph.setdefault(source, set()).add(target)
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as exc:
        cycle: list[str] = exc.args[1]
        known = edges()
        pairs = list(itertools.pairwise(cycle))
        if not all(pair in known for pair in pairs):  # listed against the imports' way
            pairs = [(b, a) for a, b in reversed(pairs)]
        lines = [f"  {a} -> {b}: {', '.join(known[a, b][:3])}" for a, b in pairs]
        pytest.fail("import cycle between packages:\n" + "\n".join(lines))


def test_connectors_do_not_import_each_other() -> None:
    bad = [i for i in IMPORTS if i.source.startswith("connectors.")
           and i.target.startswith("connectors.")]
    assert not bad, "a connector imports another one:\n" + describe(bad)


def test_packages_below_connectors_import_no_connector_nor_the_workspace() -> None:
    bad = [i for i in IMPORTS if i.source in BELOW_CONNECTORS
           and (i.target.split(".")[0] == "connectors" or i.target == "workspace")]
    assert not bad, "a package below the connectors imports one above:\n" + describe(bad)


def test_packages_import_only_their_layer_or_lower() -> None:
    bad = [i for i in IMPORTS if i.source in RANK and i.target in RANK
           and RANK[i.target] > RANK[i.source]]
    assert not bad, "a package imports one above it:\n" + describe(bad)


def test_every_package_and_top_level_module_is_placed() -> None:
    packages = {n for p in source_files() if (n := node_of(module_name(p))) is not None}
    unplaced = sorted(n for n in packages if n not in RANK.keys() | COMPOSITION | SHARED)
    assert not unplaced, (f"place {unplaced} in LAYERS, COMPOSITION or SHARED "
                          "(tests/test_package_graph.py)")


def test_only_the_composition_layer_imports_it() -> None:
    bad = [i for i in IMPORTS if i.target in COMPOSITION and i.source not in COMPOSITION]
    assert not bad, "a package imports a composition module:\n" + describe(bad)


def test_shared_modules_import_no_domain_package() -> None:
    bad = [i for i in IMPORTS if i.source in SHARED and i.target in RANK
           and i.target not in SHARED_MAY_IMPORT.get(i.source, set())]
    assert not bad, "a shared top-level module imports a domain package:\n" + describe(bad)



# Names a stdlib module also has, kept on purpose. Each is reached only through its full
# dotted path and is the project's own word for what it holds.
STDLIB_NAMES_KEPT = {
    # The channel kind (its app label is `email_channel`); renaming it would move the
    # connector's app and every import of it for no reader's gain.
    "atende/connectors/email/__init__.py",
    # The ticket queue: the helpdesk's word for the agents' list of tickets.
    "atende/tickets/queue_query.py",
    "atende/workspace/views/queue_page.py",
    # The read side beside `services` (the usual Django split of queries and writes).
    "atende/tickets/selectors.py",
}


def test_no_module_is_named_like_a_stdlib_module() -> None:
    """A module named like a stdlib one (`connectors/email/threading.py` was one) reads as
    the stdlib module at its import sites and shadows it for a script run from its folder;
    name a module for what it holds."""
    clashes = sorted(
        path for p in source_files()
        if (p.parent.name if p.name == "__init__.py" else p.stem) in sys.stdlib_module_names
        and (path := str(p.relative_to(SRC))) not in STDLIB_NAMES_KEPT
    )
    assert not clashes, f"modules named like stdlib modules: {clashes}"


def test_no_bench_script_is_named_like_a_stdlib_module() -> None:
    """`python bench/x.py` puts bench/ first on sys.path: a `bench/queue.py` there was
    imported as the stdlib `queue` by psycopg and the load client, and the PostgreSQL target
    failed ("module 'queue' has no attribute 'Queue'")."""
    bench = SRC.parent / "bench"
    clashes = sorted(
        p.name for p in bench.rglob("*.py")
        if (p.parent.name if p.name == "__init__.py" else p.stem) in sys.stdlib_module_names
    )
    assert not clashes, f"bench scripts named like stdlib modules: {clashes}"
