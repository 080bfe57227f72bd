"""SiteLicense: the bandwidth license a site uses (``assignSiteBwLicense`` and its siblings).

Cato sells licenses; the API assigns them. A site uses one bandwidth license at a time: a **site
license** (``CATO_SITE``, ``CATO_SSE_SITE``: the whole license, no ``bw``) or a share of a
**pooled bandwidth license** (``CATO_PB``, ``CATO_PB_SSE``: ``bw`` Mbps of the pool). These are the
SKUs Terraform's ``cato_license`` accepts, and Cato's API notes that license-to-site assignment is
to be removed in 2026 with a new pricing model: on an account without such licenses there is
nothing to manage.

The resource's id is the site's id: one per site. Changing ``license_id`` is done in place with
``replaceSiteBwLicense`` (Cato's way to "make sure the site will always have a license"), changing
only ``bw`` with ``updateSiteBwLicense``; deleting the resource removes the license from the site.
A site that already has a license it did not get from this resource is refused at create, naming
the license, with the id to import it by.

Checks before any write (``preview_check``, one ``licensing`` read per run): the license exists,
is ACTIVE and is one of the four SKUs; ``bw`` is given for a pooled license and only for one; a
site license is not another site's; a pool has the bandwidth left.

Read path: the ``site_licenses`` collection, one ``licensing`` query for the whole account.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...errors import NotFoundError, OutcomeUnknownError
from ...readpath import AccountReader, register_loader
from ..spec import Reservation, ResourceSpec
from ..validation import is_unknown
from .common import prune

SITE_SKUS = ("CATO_SITE", "CATO_SSE_SITE")
POOL_SKUS = ("CATO_PB", "CATO_PB_SSE")

SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["site_id", "license_id"],
    "properties": {
        "site_id": {"type": "string", "minLength": 1},
        "license_id": {"type": "string", "minLength": 1},
        "bw": {"type": "integer", "minimum": 1},
    },
}


def _site_ref(site_id: str) -> dict[str, str]:
    return {"by": "ID", "input": str(site_id)}


# -- reads ------------------------------------------------------------------------------------------
def load_licenses(r: AccountReader) -> dict[str, dict[str, Any]]:
    """Every site or pooled bandwidth license of the account, by id (one ``licensing`` call)."""
    info = ((r.client.execute("SiteLicenses", {}).get("licensing") or {}).get("licensingInfo")) or {}
    out: dict[str, dict[str, Any]] = {}
    for lic in info.get("site") or []:
        if lic.get("id"):
            site = (lic.get("site") or {}).get("id")
            out[str(lic["id"])] = {**lic, "id": str(lic["id"]), "sites": {str(site): None} if site else {}}
    for lic in info.get("pooledBandwidth") or []:
        if lic.get("id"):
            sites = {
                str(s["site"]["id"]): s.get("allocatedBandwidth")
                for s in lic.get("sites") or []
                if s.get("site")
            }
            out[str(lic["id"])] = {**lic, "id": str(lic["id"]), "sites": sites}
    return out


def load_site_licenses(r: AccountReader) -> dict[str, dict[str, Any]]:
    """Each licensed site's license, by site id (a resource's id)."""
    out: dict[str, dict[str, Any]] = {}
    for lic in r.get("licenses").values():
        for site_id, bw in lic["sites"].items():
            out[site_id] = {
                "id": site_id,
                "site_id": site_id,
                "license_id": lic["id"],
                "bw": bw,
                "sku": lic.get("sku"),
            }
    return out


register_loader("licenses", load_licenses)
register_loader("site_licenses", load_site_licenses, depends_on=("licenses",))


def _read(live: Mapping[str, Any], _view) -> dict[str, Any]:
    return prune({"site_id": live["site_id"], "license_id": live["license_id"], "bw": live.get("bw")})


# -- writes -----------------------------------------------------------------------------------------
def _current(session, site_id: str) -> dict[str, Any] | None:
    session.reader.invalidate("licenses")
    return session.reader.get("site_licenses").get(str(site_id))


def _assign(session, i: Mapping[str, Any]) -> None:
    body = {"site": _site_ref(i["site_id"]), "licenseId": i["license_id"], "bw": i.get("bw")}
    try:
        session.client.execute("AssignSiteBwLicense", {"input": prune(body)})
    except OutcomeUnknownError:
        now = _current(session, i["site_id"])
        if now is None or now["license_id"] != i["license_id"]:
            session.client.execute("AssignSiteBwLicense", {"input": prune(body)})


def _apply(session, site_id, olds, news, _claim=None) -> tuple[str, dict[str, Any]]:
    try:
        if news is None:  # delete
            if olds and olds.get("license_id"):
                body = {"site": _site_ref(site_id), "licenseId": olds["license_id"]}
                try:
                    session.client.execute("RemoveSiteBwLicense", {"input": body})
                except NotFoundError:
                    pass  # the site or the license is gone
            return str(site_id), {}
        if site_id is None:  # create
            _assign(session, news)
            return str(news["site_id"]), {**news, "resource_id": str(news["site_id"])}
        now = _current(session, site_id)
        if now is None:
            _assign(session, news)
        elif now["license_id"] != news["license_id"]:
            body = {"site": _site_ref(site_id), "licenseIdToRemove": now["license_id"],
                    "licenseIdToAdd": news["license_id"], "bw": news.get("bw")}  # fmt: skip
            session.client.execute("ReplaceSiteBwLicense", {"input": prune(body)})
        elif news.get("bw") is not None and now.get("bw") != news["bw"]:
            body = {"site": _site_ref(site_id), "licenseId": news["license_id"], "bw": news["bw"]}
            session.client.execute("UpdateSiteBwLicense", {"input": body})
        return str(site_id), {**news, "resource_id": str(site_id)}
    finally:
        session.reader.invalidate("licenses")


# -- checks -----------------------------------------------------------------------------------------
def _preview_check(preflight, _program, _owner, old, inputs) -> list[tuple[str, str]]:
    """The license against the account's licenses (one ``licensing`` read per run)."""
    lic_id, site_id = inputs.get("license_id"), inputs.get("site_id")
    if is_unknown(lic_id):
        return []
    licenses = preflight.reader.get("licenses")
    lic = licenses.get(str(lic_id))
    if lic is None:
        known = ", ".join(f"{k} ({v.get('sku')})" for k, v in sorted(licenses.items())) or "none"
        return [
            ("license_id", f"no license {lic_id} in the account: its site bandwidth licenses are {known}")
        ]
    sku, bw = lic.get("sku"), inputs.get("bw")
    if sku not in SITE_SKUS + POOL_SKUS:
        return [
            (
                "license_id",
                f"{lic_id} is a {sku} license: a site takes one of {', '.join(SITE_SKUS + POOL_SKUS)}",
            )
        ]
    if lic.get("status") != "ACTIVE":
        return [("license_id", f"{lic_id} is {lic.get('status')}: only an ACTIVE license can be assigned")]
    if sku in POOL_SKUS and bw is None:
        return [("bw", f"{lic_id} is a pooled bandwidth license ({sku}): set bw, the site's share in Mbps")]
    if sku in SITE_SKUS and bw is not None:
        return [("bw", f"{lic_id} is a site license ({sku}): it has no bw to set; remove bw")]
    if is_unknown(site_id):
        return []  # a site not made (or imported) yet: whose the license is now is known at apply
    others = {s: v for s, v in lic["sites"].items() if s != str(site_id)}
    if sku in SITE_SKUS and others:
        return [
            (
                "license_id",
                f"{lic_id} is a site license already used by site {next(iter(others))}: pick another",
            )
        ]
    if sku in POOL_SKUS and isinstance(bw, int):
        free = int(lic.get("total") or 0) - sum(v or 0 for v in others.values())
        if bw > free:
            return [("bw", f"{lic_id} has {free} Mbps left of its {lic.get('total')}: lower bw")]
    return []


def _reservations(i: dict[str, Any]) -> list[Reservation]:
    site = i["site_id"]
    return [Reservation("site license", site, "site_id", f"the bandwidth license of site {site}")]


SITE_LICENSE = ResourceSpec(
    name="SiteLicense",
    kind="site_licenses",
    schema=SCHEMA,
    replace_on=("site_id",),
    natural_key=("site_id",),
    read=_read,
    normalize=prune,
    apply=_apply,
    reservations=_reservations,
    preview_check=_preview_check,
    invalidates=("licenses",),
    parent_input="site_id",
)
