"""Hostile and broken input: never a traceback, never a leak, never a changed file.

Every file of tests/hostile/ is checked in this process (parsed whole, and streamed as a large
return is) and by the command line, and must give what tests/hostile/expected.yaml says: one line
naming the file and the problem with exit 2, or a report. Around every run:

* nothing but the input is opened: an audit hook lists every file Python opens (in this process,
  and in the command line's processes through a sitecustomize); files opened inside libxml2 do not
  pass through Python, so the secret files beside the input have their access time set far in the
  past, and a read of them (by anything) would move it;
* no output holds the secret token or a line of /etc/passwd;
* no network: sockets are blocked in this process (the `no_network` fixture) and in the command
  line's, and a listener on 127.0.0.1:47999, where the corpus points, must see no connection;
* the command line runs with its address space capped and a time limit;
* the input's bytes are unchanged.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import mimetypes
import os
import resource
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import typer
import yaml

import validator
from validator import pipeline, validate
from validator.cli import write_atomically
from validator.formats import RENDERERS
from validator.load import InputError
from validator.paths import rules_dir, schemas_dir

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = Path(__file__).resolve().parent / "hostile"
FIXTURES = ROOT / "fixtures"
CLEAN = FIXTURES / "clean-2025-26.xml"
MANIFEST_FILE = HOSTILE / "expected.yaml"
MANIFEST = yaml.safe_load(MANIFEST_FILE.read_text(encoding="utf-8"))
CORPUS = sorted(path.name for path in HOSTILE.iterdir() if path != MANIFEST_FILE)

SECRET = "SECRET-7f3a9c-MUST-NOT-LEAK"
PORT = 47999  # where the corpus's URLs point
# Address space allowed to a command-line run that checks one file. A clean return already reserves
# about 2 GB of it (DuckDB and Arrow set up their threads and arenas), so the cap is 3 GB.
MEMORY = 3 * 1024 ** 3
TIME_LIMIT = 180  # seconds: a run that takes longer has hung
PASSWD = [line for line in Path("/etc/passwd").read_text().splitlines()[:3] if line] \
    if Path("/etc/passwd").is_file() else []

pytestmark = pytest.mark.usefixtures("no_network")


# -- what a run may touch --------------------------------------------------------------------

_opened: list[str] | None = None


def _audit(event: str, args: tuple) -> None:
    if _opened is not None and event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        _opened.append(os.path.abspath(os.fsdecode(args[0])))


sys.addaudithook(_audit)  # an audit hook cannot be removed: it records only inside opens_recorded()


@contextlib.contextmanager
def opens_recorded():
    global _opened
    _opened = []
    try:
        yield _opened
    finally:
        _opened = None


# Python's own files, the package's rules and schemas: what any run may open besides its input.
_ALLOWED_FOLDERS = tuple(sorted({
    os.path.realpath(folder) + os.sep
    for folder in (Path(validator.__file__).parent, rules_dir(), schemas_dir(), sys.prefix, sys.base_prefix,
                   sys.exec_prefix)
}))


# The system's table of file types, which Python's mimetypes reads when openpyxl (the xlsx format)
# is imported.
_SYSTEM_FILES = frozenset(os.path.realpath(path) for path in mimetypes.knownfiles)


def foreign(opened, *inputs: Path) -> list[str]:
    """The files opened that are neither an input nor part of Python or the package."""
    allowed = {os.path.realpath(path) for path in inputs} | _SYSTEM_FILES
    return sorted({
        path for path in opened
        if os.path.realpath(path) not in allowed and not os.path.realpath(path).startswith(_ALLOWED_FOLDERS)
        and not path.startswith(("/dev/", "/proc/", "/sys/"))
    })


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sandbox(tmp_path: Path, name: str, source: Path | None = None) -> Path:
    """A copy of a corpus file in a folder of its own, beside the secret.txt and secret.dtd it may
    name. The secrets' access times are set far in the past: reading them would move them."""
    folder = tmp_path / "case"
    folder.mkdir()
    (folder / "secret.txt").write_text(SECRET)
    (folder / "secret.dtd").write_text(f'<!ENTITY secret SYSTEM "secret.txt">\n<!-- {SECRET} -->\n')
    for secret in ("secret.txt", "secret.dtd"):
        os.utime(folder / secret, (0, time.time()))
    copy = folder / name
    shutil.copyfile(source or HOSTILE / name, copy)
    return copy


@pytest.fixture(scope="session")
def atime_works(tmp_path_factory) -> bool:
    """Whether reading a file moves its access time here (not on a noatime mount)."""
    probe = tmp_path_factory.mktemp("atime") / "probe"
    probe.write_text("probe")
    os.utime(probe, (0, time.time()))
    probe.read_text()
    return os.stat(probe).st_atime > 0


def assert_secrets_unread(folder: Path, atime_works: bool) -> None:
    if atime_works:
        for secret in ("secret.txt", "secret.dtd"):
            assert os.stat(folder / secret).st_atime == 0, f"{secret} was read"


def assert_no_leak(outputs: list[str]) -> None:
    for output in outputs:
        assert SECRET not in output
        assert not any(line in output for line in PASSWD), "a line of /etc/passwd is in the output"
        assert "Traceback" not in output


@pytest.fixture
def listener():
    """A TCP listener where the corpus's URLs point; `connections()` accepts and counts what came.
    None when the port is taken (the other checks still run)."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        server.bind(("127.0.0.1", PORT))
    except OSError:
        server.close()
        yield None
        return
    server.listen(16)
    server.setblocking(False)

    class Listener:
        @staticmethod
        def connections() -> int:
            count = 0
            while True:  # a connection attempt is queued by the kernel whether or not we accept it
                try:
                    connection, _ = server.accept()
                except (BlockingIOError, InterruptedError):
                    return count
                connection.close()
                count += 1

    yield Listener()
    server.close()


def assert_no_connection(listener) -> None:
    if listener is not None:
        assert listener.connections() == 0, f"something connected to 127.0.0.1:{PORT}"


# -- the command line, fenced in -------------------------------------------------------------

GUARD = '''
"""Loaded by every Python process of a test run (PYTHONPATH): no network, and a list of opened files."""
import os
import sys

_log = os.environ["CIN_VALIDATE_TEST_AUDIT"]
_busy = [False]
_NETWORK = {"socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr",
            "socket.sendto", "socket.sendmsg"}


def _write(line):
    _busy[0] = True
    try:
        fd = os.open(_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (" ".join(line.split()) + "\\n").encode("utf-8", "replace"))
        finally:
            os.close(fd)
    finally:
        _busy[0] = False


def _hook(event, args):
    if _busy[0]:
        return
    if event in _NETWORK:
        _write(f"network {event} {args!r}")
        raise PermissionError(f"network access blocked by the test: {event}")
    if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        _write("open " + os.path.abspath(os.fsdecode(args[0])))


sys.addaudithook(_hook)
'''


class Run:
    def __init__(self, result: subprocess.CompletedProcess, log: Path):
        self.code, self.out, self.err = result.returncode, result.stdout, result.stderr
        lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
        self.network = [line for line in lines if line.startswith("network ")]
        self.opened = [line[5:] for line in lines if line.startswith("open ")]


def cli(tmp_path: Path, *args, cwd: Path | None = None, memory: int | None = MEMORY) -> Run:
    """The command line in a fresh process: sockets blocked, opens listed, memory and time capped."""
    guard = tmp_path / "guard"
    guard.mkdir(exist_ok=True)
    (guard / "sitecustomize.py").write_text(GUARD)
    log = tmp_path / "guard" / f"audit-{time.monotonic_ns()}.log"
    env = {key: value for key, value in os.environ.items() if key not in ("GITHUB_ACTIONS", "PYTHONPATH")}
    env.update(PYTHONPATH=str(guard), CIN_VALIDATE_TEST_AUDIT=str(log))

    def cap_memory():
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    result = subprocess.run([sys.executable, "-m", "validator", *map(str, args)], capture_output=True, text=True,
                            cwd=cwd or tmp_path, env=env, preexec_fn=cap_memory if memory else None,
                            timeout=TIME_LIMIT)
    return Run(result, log)


def assert_one_line(run: Run, path: Path, says: str) -> None:
    assert run.code == 2, (run.out, run.err)
    assert run.out == ""
    lines = run.err.splitlines()
    assert len(lines) == 1, run.err
    assert lines[0].startswith(f"cin-validate: {path}: "), lines[0]
    assert says in lines[0]


def assert_fenced(run: Run, *inputs: Path) -> None:
    assert run.network == [], run.network
    assert foreign(run.opened, *inputs) == []
    assert_no_leak([run.out, run.err])


# -- the corpus ------------------------------------------------------------------------------

def test_every_corpus_file_has_an_expectation():
    assert [name for name in CORPUS if name not in MANIFEST] == [], "files without an entry in expected.yaml"
    assert [name for name in MANIFEST if name not in CORPUS] == [], "entries in expected.yaml without a file"
    for name, entry in MANIFEST.items():
        assert set(entry) <= {"what", "exit", "says", "codes"}, name
        assert entry["exit"] in (0, 1, 2) and isinstance(entry.get("says"), str) and entry["says"], name
        assert ("codes" in entry) == (entry["exit"] != 2), f"{name}: codes go with exit 0 or 1 only"
        if "codes" in entry:
            assert (entry["exit"] == 1) == any(not code.endswith("Q") for code in entry["codes"]), name


@pytest.mark.parametrize("route", ["whole", "streamed"])
@pytest.mark.parametrize("name", CORPUS)
def test_corpus_file_in_process(name, route, tmp_path, monkeypatch, listener, atime_works):
    expected = MANIFEST.get(name)
    assert expected is not None, f"{name} has no entry in tests/hostile/expected.yaml"
    if route == "streamed":  # the large-file path: header read, then streamed, schema in a worker
        monkeypatch.setattr(pipeline, "LARGE_FILE", 0)
    path = sandbox(tmp_path, name)
    monkeypatch.chdir(path.parent)  # a name relative to the working folder would find the secrets too
    before = digest(path)
    report = message = None
    with opens_recorded() as opened:
        try:
            report = validate(path)
        except InputError as exc:
            message = str(exc)
    if expected["exit"] == 2:
        assert report is None, f"{name} was checked ({report and report.counts}) but cannot be"
        assert len(message.splitlines()) == 1 and message.startswith(f"{path}: "), message
        assert expected["says"] in message
        outputs = [message]
    else:
        assert message is None, message
        text = RENDERERS["text"]([report], False)
        outputs = [text, json.dumps(report.to_dict())]
        assert report.exit_code() == expected["exit"], text
        assert sorted(f.code for f in report.findings) == sorted(expected["codes"]), text
        assert expected["says"] in text
    assert_no_leak(outputs)
    assert foreign(opened, path) == []
    assert_secrets_unread(path.parent, atime_works)
    assert_no_connection(listener)
    assert digest(path) == before


@pytest.mark.parametrize("name", CORPUS)
def test_corpus_file_on_the_command_line(name, tmp_path, listener, atime_works):
    expected = MANIFEST.get(name)
    assert expected is not None, f"{name} has no entry in tests/hostile/expected.yaml"
    path = sandbox(tmp_path, name)
    before = digest(path)
    run = cli(tmp_path, path, cwd=path.parent)
    if expected["exit"] == 2:
        assert_one_line(run, path, expected["says"])
    else:
        assert run.code == expected["exit"], run.err
        assert run.err == "" and expected["says"] in run.out
    assert_fenced(run, path)
    assert_secrets_unread(path.parent, atime_works)
    assert_no_connection(listener)
    assert digest(path) == before


def test_committed_files_are_never_changed(tmp_path):
    """Every corpus file and fixture checked in place, all in one run: not one byte changes, and
    each file that cannot be checked gets exactly one line."""
    files = [HOSTILE / name for name in CORPUS] + sorted(FIXTURES.glob("*.xml"))
    before = {path: digest(path) for path in files}
    # Not capped: each of the parallel workers keeps a database per collection year it has seen.
    run = cli(tmp_path, "--no-indicators", "--select", "100", "--format", "json", *files, memory=None)
    assert run.code == 2
    failing = [HOSTILE / name for name in CORPUS if MANIFEST[name]["exit"] == 2]
    assert run.err.splitlines() == [f"cin-validate: {path}: {line}" for path, line in zip(
        failing, [line.split(": ", 2)[-1] for line in run.err.splitlines()])], run.err
    assert [report["file"] for report in json.loads(run.out)] == [
        str(path) for path in files if path not in failing]
    assert_fenced(run, *files)
    assert {path: digest(path) for path in files} == before


# -- made at test time: too big to commit, or not files at all ----------------------------------

def huge_text_node(tmp_path: Path) -> Path:
    """A 50 MB return whose one LAchildID is a single text node of 50 million characters."""
    path = tmp_path / "huge-text.xml"
    text = CLEAN.read_text(encoding="utf-8")
    start, end = text.split("<LAchildID>CHILD0003</LAchildID>", 1)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(start + "<LAchildID>")
        for _ in range(50):
            handle.write("A" * 1_000_000)
        handle.write("</LAchildID>" + end)
    return path


@pytest.mark.parametrize("route", ["whole", "streamed"])
def test_huge_text_node_in_process(route, tmp_path, monkeypatch):
    path = huge_text_node(tmp_path)
    assert path.stat().st_size > pipeline.LARGE_FILE  # streamed unless told otherwise
    if route == "whole":
        monkeypatch.setattr(pipeline, "LARGE_FILE", 1 << 40)
    before = digest(path)
    with pytest.raises(InputError) as caught:
        validate(path)
    assert str(caught.value).startswith(f"{path}: not well-formed XML at line 104, column ")
    assert "a text value is longer than 10,000,000 characters" in str(caught.value)
    assert digest(path) == before


def test_huge_text_node_on_the_command_line(tmp_path):
    path = huge_text_node(tmp_path)
    before = digest(path)
    run = cli(tmp_path, path)
    assert_one_line(run, path, "a text value is longer than 10,000,000 characters")
    assert_fenced(run, path)
    assert digest(path) == before


def test_gzip_bomb_is_not_unpacked(tmp_path):
    """A small gzip file that would unpack to 150 MB of children is refused before it is parsed."""
    child = CLEAN.read_text(encoding="utf-8").split("<Children>", 1)[1].split("</Child>", 1)[0] + "</Child>"
    head = CLEAN.read_text(encoding="utf-8").split("<Children>", 1)[0] + "<Children>"
    path = tmp_path / "bomb.xml"
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=9) as handle:
        handle.write(head)
        for _ in range(100_000):
            handle.write(child)
        handle.write("</Children></Message>")
    assert path.stat().st_size < pipeline.LARGE_FILE / 4  # small enough to be parsed whole
    with pytest.raises(InputError, match="gzip-compressed"):
        validate(path)
    run = cli(tmp_path, path)
    assert_one_line(run, path, "gzip-compressed")


def _not_files(tmp_path: Path) -> list[tuple[Path, str]]:
    folder = tmp_path / "places"
    folder.mkdir()
    loop = folder / "loop.xml"
    loop.symlink_to(loop)
    dangling = folder / "dangling.xml"
    dangling.symlink_to(folder / "gone.xml")
    fifo = folder / "pipe.xml"
    os.mkfifo(fifo)
    return [
        (folder, "is a directory, not a return file"),
        (folder / "absent.xml", "no such file"),
        (dangling, "no such file"),
        (folder / "absent" / "deeper.xml", "no such file"),
        (folder / ("n" * 300 + ".xml"), "cannot be read (File name too long)"),
        (loop, "cannot be read (Too many levels of symbolic links)"),
        (fifo, "is not a regular file"),  # never opened: opening a pipe would wait for a writer
        (Path("/dev/zero"), "is not a regular file"),
    ]


def test_what_is_not_a_readable_file_in_process(tmp_path):
    for path, says in _not_files(tmp_path):
        with opens_recorded() as opened, pytest.raises(InputError) as caught:
            validate(path)
        assert str(caught.value) == f"{path}: {says}"
        assert foreign(opened) == []


def test_what_is_not_a_readable_file_on_the_command_line(tmp_path):
    cases = _not_files(tmp_path)
    run = cli(tmp_path, *(path for path, _ in cases))
    assert run.code == 2 and run.out == ""
    assert run.err.splitlines() == [f"cin-validate: {path}: {says}" for path, says in cases]
    assert_fenced(run)


def unreadable(tmp_path: Path) -> Path:
    """A file this process cannot open: a copy of a return with no permissions, or, for root
    (who may read anything on disk), a kernel file that not even root may read."""
    path = tmp_path / "locked.xml"
    shutil.copyfile(CLEAN, path)
    path.chmod(0)
    candidates = [path, Path("/proc/sys/vm/drop_caches"), Path("/proc/sys/vm/compact_memory")]
    for candidate in candidates:
        try:
            with open(candidate, "rb"):
                pass
        except PermissionError:
            return candidate
        except OSError:
            continue
    pytest.skip("this process can open every candidate file")


def test_unreadable_file(tmp_path):
    path = unreadable(tmp_path)
    with pytest.raises(InputError) as caught:
        validate(path)
    assert str(caught.value) == f"{path}: cannot be read (permission denied)"
    run = cli(tmp_path, path)
    assert_one_line(run, path, "cannot be read (permission denied)")
    assert_fenced(run, path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may look inside any folder")
def test_file_in_a_folder_that_cannot_be_entered(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    shutil.copyfile(CLEAN, folder / "return.xml")
    folder.chmod(0)
    try:
        with pytest.raises(InputError) as caught:
            validate(folder / "return.xml")
        assert str(caught.value) == f"{folder / 'return.xml'}: cannot be read (permission denied)"
    finally:
        folder.chmod(0o700)


@pytest.mark.parametrize("args, code, says", [
    (["-x.xml"], 2, "No such option: -x"),
    (["--strict.xml"], 2, "No such option: --strict.xml"),
    (["clean.xml", "-o.xml"], 2, "'-o.xml' reads as the option -o with the value '.xml', but it is also the name "
                                 "of a file; to check that file, put it after --: cin-validate -- -o.xml"),
    (["-f.xml"], 2, "put it after --: cin-validate -- -f.xml"),
    (["--", "-x.xml"], 0, "-x.xml  (collection 2025-26)"),
    (["--", "--strict.xml"], 0, "--strict.xml  (collection 2025-26)"),
    (["clean.xml", "--", "-o.xml", "-f.xml"], 0, "-f.xml  (collection 2025-26)"),
])
def test_files_named_like_options(tmp_path, args, code, says):
    """A file named like an option is checked after --, and is never taken silently for an option."""
    work = tmp_path / "work"
    work.mkdir()
    for name in ("clean.xml", "-x.xml", "--strict.xml", "-o.xml", "-f.xml"):
        shutil.copyfile(CLEAN, work / name)
    run = cli(tmp_path, "--no-indicators", "--select", "100", *args, cwd=work)
    assert run.code == code, run.err
    assert says in (run.err if code == 2 else run.out)
    assert "Traceback" not in run.err
    if code == 2:
        assert run.out == ""
    else:
        assert run.err == ""
        names = [arg for arg in args if arg.endswith(".xml")]
        assert all(f"{name}  (collection 2025-26)" in run.out for name in names)
    assert sorted(path.name for path in work.iterdir()) == sorted(
        ["clean.xml", "-x.xml", "--strict.xml", "-o.xml", "-f.xml"]), "a file was written"
    assert all(digest(work / name) == digest(CLEAN) for name in ("clean.xml", "-x.xml", "-o.xml"))


# -- the report is written atomically, never over the input -------------------------------------

def _spellings(tmp_path: Path) -> tuple[Path, list[Path]]:
    """A return and other names for the same file."""
    (tmp_path / "sub").mkdir()
    path = tmp_path / "return.xml"
    shutil.copyfile(CLEAN, path)
    link = tmp_path / "link.xml"
    link.symlink_to(path)
    folder_link = tmp_path / "alias"
    folder_link.symlink_to(tmp_path, target_is_directory=True)
    return path, [path, Path(f"{tmp_path}/sub/../return.xml"), tmp_path / "." / "return.xml", link,
                  folder_link / "return.xml", Path(os.path.relpath(path))]


def test_report_is_never_written_over_the_input(tmp_path):
    path, spellings = _spellings(tmp_path)
    before = digest(path)
    for spelling in spellings:
        for given in (path, spelling):
            with pytest.raises(typer.Exit) as caught:
                write_atomically(spelling, "a report", [given])
            assert caught.value.exit_code == 2
            assert digest(path) == before
    assert not list(tmp_path.glob(".cin-validate-*"))


def test_command_line_refuses_to_write_over_the_input(tmp_path):
    path, spellings = _spellings(tmp_path)
    before = digest(path)
    for given, spelling in ((path, tmp_path / "link.xml"), (Path("return.xml"), Path("./sub/../return.xml"))):
        run = cli(tmp_path, "--no-indicators", "--select", "100", given, "--output", spelling, cwd=tmp_path)
        assert run.code == 2 and run.out == "", run.err
        assert run.err == f"cin-validate: refusing to write the report over the input file {given}\n"
        assert digest(path) == before
    assert not list(tmp_path.glob(".cin-validate-*"))


def test_report_over_a_hard_link_to_the_input_leaves_the_input_alone(tmp_path):
    """A hard link is another name for the same bytes; the report replaces the name, not the bytes."""
    path = tmp_path / "return.xml"
    shutil.copyfile(CLEAN, path)
    twin = tmp_path / "twin.xml"
    os.link(path, twin)
    before = digest(path)
    write_atomically(twin, "a report", [path])
    assert digest(path) == before
    assert twin.read_text() == "a report"


def test_report_replaces_the_output_whole_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "return.xml"
    shutil.copyfile(CLEAN, path)
    target = tmp_path / "report.json"
    target.write_text("an old report that is much longer than the new one will be " * 1000)
    run = cli(tmp_path, "--no-indicators", "--select", "100", path, "--format", "json", "--output", target)
    assert run.code == 0 and run.out == "" and run.err == ""
    assert json.loads(target.read_text())["file"] == str(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["guard", "report.json", "return.xml"]


def test_unwritable_output_is_one_line(tmp_path):
    path = tmp_path / "return.xml"
    shutil.copyfile(CLEAN, path)
    target = tmp_path / "no" / "such" / "folder" / "report.json"
    run = cli(tmp_path, "--no-indicators", "--select", "100", path, "--output", target)
    assert run.code == 2 and run.out == ""
    assert run.err == f"cin-validate: cannot write {target}: No such file or directory\n"
