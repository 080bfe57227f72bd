"""The Pulumi project ``catoiac import`` writes, and how it writes into a folder that already has one.

The folder's manifest (``.catoiac-import.json``) records the account, the project, the name, module
and variable of every object imported, and a digest of every file written. With it:

- a second import of an unchanged account writes the same bytes (nothing changes);
- ``--site Porto`` into an existing project writes Porto's module (and the README and manifest):
  every object keeps its name, and modules of other sites are not touched;
- a file the user has edited since it was written is never overwritten: it is kept and reported;
- a folder holding anything else (another account's project, files we did not write) is refused
  unless ``--force``.

Nothing is written before the whole account has been read and the program assembled.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .. import __version__
from ..client import CatoClient
from ..config import DEFAULT_BASE_URL
from ..errors import CatoError
from ..resources.specs import SPECS
from ..session import Session
from .collect import Collector, ImportError_, is_site_scoped, resolve_sites, resolve_types
from .model import Context, Item, Skipped, secrets_in
from .pycode import visible
from .render import (
    SITE_PACKAGE,
    Layout,
    Names,
    main_module,
    package_init,
    secret_key,
)

MANIFEST = ".catoiac-import.json"
MANIFEST_VERSION = 1


class ForeignFolderError(CatoError):
    """``--out`` holds something other than this account's imported project."""


@dataclass
class ImportOptions:
    out: Path
    stack: str | None = None
    sites: list[str] = field(default_factory=list)
    types: list[str] | None = None
    project_name: str | None = None
    force: bool = False


@dataclass
class ImportResult:
    out: Path
    project: str
    items: list[Item]
    skipped: list[Skipped]
    part_of: list[Skipped]
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # edited since they were written: left alone


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _load_manifest(out: Path, account: str, opts: ImportOptions) -> dict[str, Any] | None:
    """The folder's manifest, None for an empty (or new) folder; refuses another project."""
    path = out / MANIFEST
    if not out.exists() or (out.is_dir() and not any(out.iterdir())):
        return None
    if not out.is_dir():
        raise ForeignFolderError(f"--out {out} is a file: give a folder")
    if not path.is_file():
        if opts.force:
            return None
        found = sorted(p.name for p in out.iterdir())[:5]
        raise ForeignFolderError(
            f"--out {out} already holds files catoiac import did not write ({', '.join(found)}...): "
            "give an empty or new folder, or --force to write into it anyway"
        )
    try:
        manifest = json.loads(path.read_text())
    except ValueError as e:
        raise ForeignFolderError(
            f"{path} is not a catoiac import manifest ({e}): --force to start afresh"
        ) from None
    other = []
    if str(manifest.get("account_id")) != account:
        other.append(f"account {manifest.get('account_id')}, not {account}")
    if opts.project_name and manifest.get("project") != opts.project_name:
        other.append(f"project {manifest.get('project')!r}, not {opts.project_name!r}")
    if other:
        if opts.force:
            return None
        raise ForeignFolderError(
            f"--out {out} holds another import ({'; '.join(other)}): give another folder, or --force to "
            "overwrite it"
        )
    return manifest


def run_import(client: CatoClient, opts: ImportOptions) -> ImportResult:
    account = str(client.config.account_id)
    out = Path(opts.out)
    manifest = _load_manifest(out, account, opts) or {}
    names = Names(
        items={k: dict(v) for k, v in (manifest.get("items") or {}).items()},
        site_modules=dict(manifest.get("site_modules") or {}),
    )
    project = opts.project_name or manifest.get("project") or f"cato-{account}"
    session = Session(client)
    ctx = Context(session)
    specs = resolve_types(opts.types)
    site_ids = resolve_sites(ctx, opts.sites) if opts.sites else None
    if site_ids is not None and not opts.types:
        specs = [s for s in specs if is_site_scoped(s)]  # --site alone: that site and what is in it
    # A module is written whole: the types an earlier import put in a module this one rewrites
    # are read again too (a range import into a site module that has its hosts keeps the hosts).
    touched = _touched_modules(ctx, specs, site_ids, names)
    extra = {k.split(":", 1)[0] for k, v in names.items.items() if v["module"] in touched}
    specs += [SPECS[n] for n in sorted(extra - {s.name for s in specs}) if n in SPECS]
    collector = Collector(session, specs, site_ids)
    items = collector.run()
    site_names = {sid: s.get("name") or "" for sid, s in ctx.reader.get("sites").items()}
    layout = Layout(items, names, site_names)

    # Modules: those this run has items for, plus the site modules of sites it was about (a site
    # whose objects are gone gets its module rewritten without them).
    modules = {i.module for i in items}
    if site_ids is not None or any(is_site_scoped(s) for s in specs):
        scope = site_ids if site_ids is not None else set(site_names)
        modules |= {m for sid in scope if (m := layout.site_module(sid)) and m in touched}
    rendered = layout.modules(modules)
    present = {i.manifest_key for i in items}
    for key in [k for k, v in names.items.items() if v["module"] in rendered and k not in present]:
        del names.items[key]  # gone from the account: gone from the program
    empty = [m for m, src in rendered.items() if not any(v["module"] == m for v in names.items.values())]
    for m in empty:
        del rendered[m]

    scopes = _scopes(specs, site_ids, site_names)
    skipped = _old_skipped(manifest, scopes) + collector.skipped
    files: dict[str, str] = dict(rendered)
    all_modules = {v["module"] for v in names.items.values()}
    packages = sorted({m.split("/")[0] for m in all_modules})
    for package in packages:
        files[f"{package}/__init__.py"] = package_init(package)
    files["__main__.py"] = main_module(account, packages)
    files["Pulumi.yaml"] = _pulumi_yaml(project, account)
    files["requirements.txt"] = _requirements()
    files[".gitignore"] = "venv/\n__pycache__/\n"
    secrets = sorted({secret_key(i, s.input) for i in items for s in secrets_in(i.inputs)}
                     | set(manifest.get("secrets") or []))  # fmt: skip
    if opts.stack:
        files[f"Pulumi.{opts.stack}.yaml"] = _stack_yaml(client)
    counts = _counts(names)
    files["README.md"] = readme(project, account, counts, skipped, collector.part_of, secrets, opts.stack,
                                _endpoint(client))  # fmt: skip

    result = ImportResult(out, project, items, collector.skipped, collector.part_of)
    old_files: Mapping[str, str] = manifest.get("files") or {}
    digests = dict(old_files)
    for rel, text in sorted(files.items()):
        path = out / rel
        if path.exists():
            current = path.read_text()
            if current == text:
                result.unchanged.append(rel)
                digests[rel] = _digest(text)
                continue
            if not opts.force and old_files.get(rel) != _digest(current):
                result.kept.append(rel)  # edited since we wrote it (or never ours): the user's now
                continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        digests[rel] = _digest(text)
        result.written.append(rel)
    new_manifest = {
        "version": MANIFEST_VERSION,
        "catoiac": __version__.split(".")[0] + "." + __version__.split(".")[1],
        "account_id": account,
        "project": project,
        "items": {k: names.items[k] for k in sorted(names.items)},
        "site_modules": {k: names.site_modules[k] for k in sorted(names.site_modules)},
        "skipped": [s.__dict__ for s in sorted(skipped, key=lambda s: (s.type, s.name, s.reason, s.scope))],
        "secrets": secrets,
        "files": {k: digests[k] for k in sorted(digests)},
    }
    text = json.dumps(new_manifest, indent=2, sort_keys=False) + "\n"
    path = out / MANIFEST
    if not (path.exists() and path.read_text() == text):
        out.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        result.written.append(MANIFEST)
    else:
        result.unchanged.append(MANIFEST)
    return result


def _touched_modules(ctx: Context, specs, site_ids, names: Names) -> set[str]:
    out = set()
    if any(is_site_scoped(s) for s in specs):
        scope = site_ids if site_ids is not None else set(ctx.reader.get("sites"))
        out |= {f"{SITE_PACKAGE}/{m}.py" for sid, m in names.site_modules.items() if sid in scope}
    for key, entry in names.items.items():
        spec = SPECS.get(key.split(":", 1)[0])
        if spec is not None and spec in specs and not is_site_scoped(spec):
            out.add(entry["module"])
    return out


def _scopes(specs, site_ids, site_names) -> set[str]:
    """What this run read afresh: "site:<id>" per site in scope, "type:<name>" per account-wide type."""
    out = {f"type:{s.name}" for s in specs if not is_site_scoped(s)}
    if any(is_site_scoped(s) for s in specs):
        out |= {f"site:{sid}" for sid in (site_ids if site_ids is not None else site_names)}
    return out


def _old_skipped(manifest: Mapping[str, Any], scopes: set[str]) -> list[Skipped]:
    """What earlier imports skipped in what this one did not read again."""
    return [Skipped(**s) for s in manifest.get("skipped") or [] if s.get("scope") not in scopes]


def _counts(names: Names) -> dict[str, int]:
    out: dict[str, int] = {}
    for key in names.items:
        t = key.split(":", 1)[0]
        out[t] = out.get(t, 0) + 1
    return {t: out[t] for t in SPECS if t in out}


def _endpoint(client: CatoClient) -> str | None:
    url = str(client.config.base_url)
    return None if url == DEFAULT_BASE_URL else url


def _pulumi_yaml(project: str, account: str) -> str:
    doc = {
        "name": project,
        "description": f"Cato account {account} under code (written by catoiac import)",
        "runtime": {"name": "python", "options": {"virtualenv": "venv"}},
    }
    return yaml.safe_dump(doc, sort_keys=False)


def _requirements() -> str:
    return (
        "# pulumi_cato (the Cato resources and lookups) is part of the catoiac package.\n"
        f"catoiac>={__version__}\n"
        "pulumi>=3.200,<4\n"
    )


def _stack_yaml(client: CatoClient) -> str:
    config = {"cato:accountId": str(client.config.account_id)}
    endpoint = _endpoint(client)
    if endpoint:
        config["cato:endpoint"] = endpoint
    return yaml.safe_dump({"config": config}, sort_keys=False)


def _table(rows: list[tuple[str, ...]], head: tuple[str, ...]) -> list[str]:
    def cell(text: str) -> str:
        return visible(str(text)).replace("|", "\\|").replace("\n", " ")

    out = ["| " + " | ".join(head) + " |", "| " + " | ".join("---" for _ in head) + " |"]
    return out + ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]


# Resources from which the first `up` is worth running without Pulumi's per-resource state saves.
_LARGE = 500


def readme(
    project: str,
    account: str,
    counts: Mapping[str, int],
    skipped: list[Skipped],
    part_of: list[Skipped],
    secrets: list[str],
    stack: str | None,
    endpoint: str | None,
) -> str:
    stack_name = stack or "<stack>"
    lines = [
        f"# {project}: Cato account {account}, under code",
        "",
        "Written by `catoiac import` from the live account. Each resource carries `import_` with the id",
        "of the object it declares, so the first `pulumi up` adopts everything it declares and changes",
        "nothing in Cato; from then on, this program is how the account changes.",
        "",
        "## Run it",
        "",
        "```bash",
        "python3 -m venv venv && venv/bin/pip install -r requirements.txt",
        f"pulumi stack init {stack_name}" + ("" if stack else "   # Pulumi.<stack>.yaml: see --stack"),
        *([f"pulumi config set cato:accountId {account}"] if not stack else []),
        *([f"pulumi config set cato:endpoint {endpoint}"] if endpoint and not stack else []),
        "pulumi config set --secret cato:apiKey    # the API key (or the CATO_TOKEN environment variable)",
        *[f"pulumi config set --secret {key}    # see Secrets" for key in secrets],
        *(
            ["PULUMI_SKIP_CHECKPOINTS=true pulumi up  # adopts every object: no change in Cato (see below)"]
            if sum(counts.values()) >= _LARGE
            else ["pulumi up                               # adopts every object: no change in Cato"]
        ),
        "pulumi preview --expect-no-changes      # the program is the account",
        f"{f'catoiac drift --stack {stack_name}':<40}# and says so: 0 drift",
        "```",
        "",
        "The `import_` options may be removed after that first `up`; they do nothing afterwards.",
        "",
        *(
            [
                f"`PULUMI_SKIP_CHECKPOINTS=true`: with {sum(counts.values()):,} resources, Pulumi's saving of the whole",
                "state after every adopted resource would make the first `up` take quadratic time (about an hour",
                "for 2,600 resources, against minutes without). Skipping those intermediate saves is safe for this",
                "`up` only: it writes nothing to Cato, so an interrupted run is simply run again. Leave it off for",
                "every later `up`, whose intermediate saves are what make an interrupted run recoverable.",
                "",
            ]
            if sum(counts.values()) >= _LARGE
            else []
        ),
        "## What was imported",
        "",
        *_table([(t, str(n)) for t, n in counts.items()], ("type", "resources")),
        "",
    ]
    if part_of:
        kinds: dict[str, int] = {}
        for p in part_of:
            kinds[p.type] = kinds.get(p.type, 0) + 1
        lines += [
            "Declared through another resource rather than on their own (nothing is lost): "
            + "; ".join(
                f"{n} {t} ({_PART_OF.get(t, 'part of another resource')})" for t, n in sorted(kinds.items())
            )
            + ".",
            "",
        ]
    lines += ["## Not imported, and why", ""]
    if skipped:
        rows = sorted((s.type, s.name, s.reason) for s in skipped)
        lines += [
            "These objects stay in Cato as they are; the program neither declares nor changes them.",
            "",
            *_table(rows, ("type", "object", "reason")),
            "",
        ]
    else:
        lines += ["Nothing: every object of the imported types is in the program.", ""]
    lines += [
        "## Layout",
        "",
        "- `sites/<site>.py`: one module per site with everything in it (the site, its ports, ranges,",
        "  static hosts and BGP peers). A site is reviewed, owned (CODEOWNERS) and changed in one file,",
        "  and a pull request that touches one site shows one site; a site imported later",
        "  (`catoiac import --site NAME`) is a new file and nothing else changes.",
        "- `account/`: account-wide objects, a module per type (`groups.py`).",
        "- `policies/`: a module per policy (every section of it, rules in order).",
        "- Objects refer to each other through the program: a range's `site_id` is `site.id`, a group's",
        "  members and a rule's sites, ranges and hosts are the program's objects (a range or a host",
        '  by its site: `{"site": hq.site.name, "name": hq.servers.name}`, so two ranges of one name',
        "  in two sites are told apart). Objects the program does not manage are found with",
        "  `cato.get_site(...)`, `cato.get_network_range(...)`, `cato.get_host(...)`, `cato.get_group(...)`.",
        "- Inputs equal to their defaults are left out. Raw Cato ids appear only in `import_`.",
        "- `.catoiac-import.json` records what was imported and under which names; a later import keeps",
        "  every name and leaves files you have edited alone.",
        "",
    ]
    if secrets:
        lines += [
            "## Secrets",
            "",
            "The program reads these from the stack's secret config: set each (`pulumi config set --secret",
            "KEY`) before the first `up`. `catoiac import` never writes a secret. A BGP peer's MD5 key is the",
            "one Cato holds. An IPsec tunnel's pre-shared key (`...-psk`) is write-only in Cato: set the key",
            "the site's device uses. The first `up` adopts the tunnel without a write, since Cato cannot",
            "show the key to compare. A later change of the value updates the tunnel's key in Cato.",
            "",
            *[f"- `{key}`" for key in secrets],
            "",
        ]
    return "\n".join(lines)


_PART_OF = {
    "NetworkRange": "native ranges: their SocketSite's native_range",
    "SocketInterface": "ports holding the native range as the site made it: their SocketSite's",
}
for _name, _spec in SPECS.items():
    if _spec.policy is not None:
        _PART_OF[_name] = "system rules: Cato's own"


def describe(result: ImportResult) -> list[str]:
    """Lines for the terminal."""
    per_type: dict[str, int] = {}
    for i in result.items:
        per_type[i.spec.name] = per_type.get(i.spec.name, 0) + 1
    out = [f"imported into {result.out} (project {result.project}):"]
    out += [f"  {t}: {n}" for t, n in sorted(per_type.items(), key=lambda kv: list(SPECS).index(kv[0]))]
    if result.skipped:
        out.append(f"  not imported: {len(result.skipped)} (README.md says why)")
    out.append(
        f"  files: {len(result.written)} written, {len(result.unchanged)} unchanged"
        + (f", {len(result.kept)} kept as you edited them ({', '.join(result.kept)})" if result.kept else "")
    )
    return out


__all__ = ["ImportError_", "ImportOptions", "ImportResult", "ForeignFolderError", "describe", "run_import"]
