"""pulumi_cato is a typed package: it ships ``py.typed``, the examples type-check against it as a
user installs it (a wheel in site-packages, not this checkout), and every argument type documents
itself in ``help()``."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import typing
import zipfile
from pathlib import Path

import pulumi_cato
import pytest
from graphql import GraphQLEnumType

from catoiac.schema import subset_schema

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(p for p in (ROOT / "examples").rglob("__main__.py"))
BAD_PROGRAM = """
import pulumi_cato as cato

cato.SocketSite("x", name=3, native_range="10.0.0.0/24", location={"country_code": "PT"}, colour="red")
cato.Group("g", name="G", members=[{"type": "SITES", "name": "Lisbon"}])
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A throw-away interpreter whose site-packages holds the wheel a user would install, plus the
    project's dependencies (pulumi...) on a path entry; returns its python."""
    tmp = tmp_path_factory.mktemp("typed")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(tmp / "wheel"),
         str(ROOT)], check=True, capture_output=True,
    )  # fmt: skip
    (wheel,) = (tmp / "wheel").glob("*.whl")
    assert "pulumi_cato/py.typed" in zipfile.ZipFile(wheel).namelist()
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp / "venv")], check=True)
    site = next((tmp / "venv" / "lib").glob("python3*/site-packages"))
    zipfile.ZipFile(wheel).extractall(site)
    (site / "project-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return tmp / "venv" / "bin" / "python"


def mypy(python: Path, *programs: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("mypy", path=str(Path(sys.executable).parent))
    assert exe, "mypy is a dev dependency: run scripts/setup"
    return subprocess.run(
        [exe, "--python-executable", str(python), "--follow-imports=silent", "--no-error-summary",
         "--cache-dir", str(cwd / ".mypy_cache"), *map(str, programs)],
        cwd=cwd, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


@pytest.mark.slow
def test_the_examples_type_check_against_the_installed_package_and_mistakes_are_caught(installed, tmp_path):
    # Each example under its own name, outside the checkout, so only the installed package is seen.
    programs = []
    for i, example in enumerate(EXAMPLES):
        copy = tmp_path / f"example_{i}.py"
        copy.write_text(example.read_text())
        programs.append(copy)
    ok = mypy(installed, *programs, cwd=tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr

    bad = tmp_path / "bad.py"
    bad.write_text(BAD_PROGRAM)
    res = mypy(installed, bad, cwd=tmp_path)
    assert res.returncode == 1
    out = res.stdout
    assert 'bad.py:4: error: Unexpected keyword argument "colour" for "SocketSite"' in out, out
    assert 'bad.py:4: error: Argument "name" to "SocketSite" has incompatible type "int"' in out, out
    # A location without its required time zone is no SiteLocationArgs.
    assert 'Argument "location" to "SocketSite" has incompatible type "dict[str, str]"' in out, out
    # "SITES" is not a member type: the item is a Literal of the schema's enum values.
    assert "bad.py:5: error: Incompatible types (expression has type \"Literal['SITES']\"" in out, out
    assert "'SITE_NETWORK_SUBNET'" in out, out
    assert "py.typed" not in out  # the package is not "installed, but missing library stubs or py.typed"


def test_every_argument_type_has_its_own_docstring_for_help():
    typed = [getattr(pulumi_cato, n) for n in pulumi_cato.__all__]
    typed = [t for t in typed if isinstance(t, type) and typing.is_typeddict(t)]
    assert len(typed) > 10
    missing = [t.__name__ for t in typed if not t.__doc__ or t.__doc__ == dict.__doc__]
    assert missing == []


def test_group_member_type_is_the_schemas_enum():
    enum = subset_schema().get_type("GroupMemberRefType")
    assert isinstance(enum, GraphQLEnumType)
    assert set(typing.get_args(pulumi_cato.GroupMemberType)) == set(enum.values)
