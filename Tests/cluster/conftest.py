"""Three real `chatr` instances in cluster mode on one PostgreSQL, with the shipped nginx site in
front of them (issue 12, items 2, 3 and 6; SPEC §7 and §8).

    CHATR_CLUSTER_DATABASE_URL=$(bash scripts/start-postgres.sh chatr_cluster) python3 -m pytest -q Tests/cluster

The database's `public` schema is dropped and re-created once at the start of the session; the
three nodes (CHATR_ENV=development, CLUSTER=postgres, one JWT_SECRET, TRUSTED_PROXIES=127.0.0.1,
each in its own temporary folder with its own `server.log`) start once and serve every test. A
test that kills a node (or restarts PostgreSQL) brings the cluster back to three ready nodes
before it ends. On a failure, what each node (and nginx) logged during the test is attached to
the report. Needs the built `.build/debug/chatr` (CHATR_BIN overrides), `psql`, `nginx` and
`openssl`; the PostgreSQL restart test also needs `pg_ctlcluster` (Debian) or
CHATR_CLUSTER_PG_RESTART (a shell command that restarts the server behind the URL). That test
restarts the whole PostgreSQL server the URL points at (the Debian cluster listening on its port),
dropping every other client's connections too: on a shared machine, give the suite a server of its
own, e.g. `pg_createcluster 15 chatrcluster --port 5433 && pg_ctlcluster 15 chatrcluster start`
(then the URL's port is 5433).

Every wait is bounded and waits for a condition; every process and socket is stopped in teardown.
"""
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from cluster_helpers import DATABASE_URL, NODES, NOTES, SKIP_REASON, Cluster, NginxSite  # noqa: E402


# --- skipping without a database, logs on failure, durations --------------------------------------

def _ours(item):
    return str(item.fspath).startswith(HERE + os.sep)


def pytest_collection_modifyitems(config, items):
    if DATABASE_URL:
        return
    skip = pytest.mark.skip(reason=SKIP_REASON)
    for item in items:
        if _ours(item):
            item.add_marker(skip)


_CLUSTER = None           # the running cluster, for the report hook
_DURATIONS = []           # (test, seconds)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not _ours(item):
        return
    if call.when == "call":
        _DURATIONS.append((item.name, call.duration))
    if report.failed and _CLUSTER is not None:
        marks = getattr(item, "_chatr_log_marks", {})
        for name, text in _CLUSTER.logs_since(marks):
            report.sections.append((f"{name} log during {item.name} ({call.when})", text or "(nothing)"))
        if _CLUSTER.folder:
            _CLUSTER.keep_folder = True


def pytest_terminal_summary(terminalreporter):
    if not _DURATIONS and not NOTES:
        return
    terminalreporter.section("cluster test durations")
    for name, seconds in sorted(_DURATIONS, key=lambda d: -d[1]):
        terminalreporter.write_line(f"{seconds:6.1f} s  {name}")
    for note in NOTES:
        terminalreporter.write_line(note)


def reset_database():
    r = subprocess.run(["psql", DATABASE_URL, "-q", "-v", "ON_ERROR_STOP=1", "-c", "DROP SCHEMA public CASCADE; CREATE SCHEMA public;"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, f"could not reset the schema of {DATABASE_URL}: {r.stderr}"


@pytest.fixture(scope="session")
def cluster():
    global _CLUSTER
    if not DATABASE_URL:
        pytest.skip(SKIP_REASON)
    reset_database()
    folder = tempfile.mkdtemp(prefix="chatr-cluster-")
    c = Cluster(folder)
    _CLUSTER = c
    try:
        for n in range(1, NODES + 1):
            c.nodes.append(c.start_node(n))
        c.wait_ready()
        site_folder = os.path.join(folder, "nginx")
        os.mkdir(site_folder)
        c.site = NginxSite(site_folder, [node.port for node in c.nodes])
        yield c
    finally:
        c.stop()
        _CLUSTER = None
        if c.keep_folder:
            print(f"\ncluster logs kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(autouse=True)
def _per_test(request):
    """Marks where each log stands (for the failure report), closes the test's sockets, and makes
    sure three nodes run for the next test (a node that died on its own fails the test)."""
    if not _ours(request.node) or not DATABASE_URL:
        yield
        return
    c = request.getfixturevalue("cluster")
    request.node._chatr_log_marks = c.log_marks()
    try:
        yield
    finally:
        c.close_devices()
    c.check_nodes_alive()


@pytest.fixture
def nodes(cluster):
    """The three nodes, ready, in order (node 1, node 2, node 3)."""
    return cluster.nodes

