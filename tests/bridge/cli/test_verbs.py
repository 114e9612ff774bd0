"""The verb table: every verb `stadtbote` parses has a handler, each handler's module is imported only when its
verb runs, and `stadtbote --help` lists every verb without loading the application."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

from bridge.cli.verbs import GROUPS, HANDLERS, build_parser, handler_for

ENV_PATH = str(Path(__file__).parents[3])
HEAVY = ("sqlalchemy", "aiohttp", "alembic", "jinja2", "bridge.app", "bridge.cli.commands", "bridge.cli.privacy",
         "botocore", "feedgen", "PIL")


def parsed_verbs() -> set[str]:
    """Every verb and `group action` the parser accepts, read from the parser itself."""
    verbs = set()
    top = next(a for a in build_parser()._actions if a.dest == "verb")
    for name, sub in top.choices.items():
        if name in GROUPS:
            actions = next(a for a in sub._actions if a.dest == "action")
            verbs.update(f"{name} {action}" for action in actions.choices)
        else:
            verbs.add(name)
    return verbs


def test_every_parsed_verb_has_a_handler_and_no_handler_lacks_its_verb():
    assert parsed_verbs() == set(HANDLERS)


def test_every_handler_in_the_table_is_a_coroutine_function_of_its_module():
    for verb in HANDLERS:
        assert inspect.iscoroutinefunction(handler_for(verb)), verb


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": ENV_PATH, "PATH": "/usr/bin:/bin"})


def test_help_lists_every_verb_with_its_help_and_loads_none_of_the_application():
    done = _run("import contextlib, io, json, sys\n"
                "from bridge.cli.main import main\n"
                "out = io.StringIO()\n"
                "with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):\n"
                "    main(['--help'])\n"
                "print(json.dumps({'help': out.getvalue(), 'modules': sorted(sys.modules)}))\n")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    top = {verb.split()[0] for verb in HANDLERS}
    assert all(f"    {verb}" in answer["help"] for verb in top)
    assert "run the web server" in answer["help"] and "official warnings" in answer["help"]
    loaded = [m for m in answer["modules"] if any(m == h or m.startswith(h + ".") for h in HEAVY)]
    assert loaded == []


def test_a_mistyped_verb_is_refused_in_one_line_without_loading_the_application():
    done = _run("import sys\n"
                "from bridge.cli.main import main\n"
                "try:\n"
                "    main(['servee'])\n"
                "except SystemExit as exc:\n"
                "    print(exc.code, 'sqlalchemy' in sys.modules)\n")
    assert done.stdout.split() == ["2", "False"]
    assert "invalid choice: 'servee'" in done.stderr


def test_the_serve_verbs_modules_leave_the_on_demand_libraries_unloaded():
    """Alembic (only to migrate), botocore (S3 media), feedgen and lxml (the first feed), icalendar (the first
    calendar) are loaded by their first use: an idle `serve` does not carry them."""
    done = _run("import json, sys\n"
                "from bridge.cli.verbs import handler_for\n"
                "handler_for('serve')\n"
                "import bridge.app\n"
                "print(json.dumps(sorted(sys.modules)))\n")
    assert done.returncode == 0, done.stderr
    modules = json.loads(done.stdout)
    assert "bridge.app" in modules and "bridge.cli.commands" in modules
    on_demand = ("alembic", "botocore", "aiobotocore", "feedgen", "lxml", "icalendar")
    assert [m for m in modules if m.split(".")[0] in on_demand] == []
