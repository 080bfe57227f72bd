"""Bandwidth licenses and their assignment to sites.

The account's licenses come from the fixture (Cato sells them; the API cannot make one). Two kinds
can be assigned to a site (Terraform's ``cato_license`` accepts exactly these SKUs):
- a **site license** (``CATO_SITE``, ``CATO_SSE_SITE``): one site, its whole ``total`` bandwidth;
- a **pooled bandwidth license** (``CATO_PB``, ``CATO_PB_SSE``): many sites, each given ``bw`` Mbps
  of the pool's ``total``.

Operations (the ``site`` namespace): ``assignSiteBwLicense``, ``replaceSiteBwLicense`` (one license
for another in one step, so the site is never left without one), ``updateSiteBwLicense`` (a pooled
license's bandwidth for the site), ``removeSiteBwLicense``; read with ``licensing.licensingInfo``
(``site`` and ``pooledBandwidth``).

Rules (FIDELITY.md has the sources): the license exists and is ACTIVE and of one of the four SKUs;
a site license goes to one site at a time and takes no ``bw``; a pooled license needs ``bw`` > 0
and the pool's allocations never exceed its ``total``; a site holds one bandwidth license at a time
(a second is a replace); update and remove need the license to be the site's. Removing a site
frees its licenses.

Fixture section (``accounts[].licenses``)::

    licenses:
      - {id: lic-site-100, sku: CATO_SITE, total: 100, site: HQ}     # assigned to site HQ
      - {id: lic-pool-1, sku: CATO_PB, total: 1000, sites: {Branch: 200}}
      - {id: lic-old, sku: CATO_SITE, total: 50, status: DISABLED}
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError

from ..context import CatoGraphQLError, RequestContext, invalid
from ..registry import query, seeder
from . import sites
from .sites import SITE, SiteMutations, get, log, site_ref

LICENSE = "license"
SITE_SKUS = ("CATO_SITE", "CATO_SSE_SITE")
POOL_SKUS = ("CATO_PB", "CATO_PB_SSE")


def _license(ctx: RequestContext, license_id: Any) -> dict[str, Any]:
    lic = ctx.store.get(ctx.account_id, LICENSE, str(license_id))
    if lic is None:
        raise CatoGraphQLError(f"License with id {license_id} not found", "NOT_FOUND")
    return lic


def _put(ctx: RequestContext, lic: dict[str, Any]) -> None:
    ctx.store.put(ctx.account_id, LICENSE, lic["id"], lic, name=lic["id"])


def _is_pool(lic: dict[str, Any]) -> bool:
    return lic["sku"] in POOL_SKUS


def licenses_of(ctx: RequestContext, site_id: str) -> list[dict[str, Any]]:
    return [
        lic
        for lic in ctx.store.list(ctx.account_id, LICENSE)
        if lic.get("siteId") == site_id or site_id in (lic.get("sites") or {})
    ]


def _usable(lic: dict[str, Any]) -> None:
    if lic["sku"] not in SITE_SKUS + POOL_SKUS:
        raise invalid(
            f"License {lic['id']} ({lic['sku']}) is not a site bandwidth license: use one of "
            f"{', '.join(SITE_SKUS + POOL_SKUS)}"
        )
    if lic["status"] != "ACTIVE":
        raise invalid(f"License {lic['id']} is {lic['status']}: only an ACTIVE license can be assigned")


def _take(ctx: RequestContext, lic: dict[str, Any], site: dict[str, Any], bw: int | None) -> None:
    """Give ``lic`` (or ``bw`` of it) to ``site``; the caller has checked the site holds no other."""
    _usable(lic)
    if _is_pool(lic):
        if bw is None or bw <= 0:
            raise invalid(f"License {lic['id']} is a pooled bandwidth license: give the site's bw (Mbps)")
        _allocate(lic, site["id"], bw)
    else:
        if bw is not None:
            raise invalid(f"License {lic['id']} is a site license: bw is only for pooled bandwidth licenses")
        if lic.get("siteId") not in (None, site["id"]):
            other = get(ctx, SITE, lic["siteId"])
            raise invalid(f"License {lic['id']} is already assigned to site '{other['name']}'")
        lic["siteId"] = site["id"]


def _allocate(lic: dict[str, Any], site_id: str, bw: int) -> None:
    pool = dict(lic.get("sites") or {})
    pool[site_id] = bw
    used = sum(pool.values())
    if used > lic["total"]:
        free = lic["total"] - sum(v for k, v in (lic.get("sites") or {}).items() if k != site_id)
        raise invalid(f"License {lic['id']} has {free} Mbps left of its {lic['total']}: lower bw")
    lic["sites"] = pool


def _release(lic: dict[str, Any], site_id: str) -> None:
    if _is_pool(lic):
        lic["sites"] = {k: v for k, v in (lic.get("sites") or {}).items() if k != site_id}
    else:
        lic["siteId"] = None


def _held(ctx: RequestContext, lic: dict[str, Any], site: dict[str, Any]) -> None:
    if lic not in licenses_of(ctx, site["id"]):
        raise invalid(f"License {lic['id']} is not assigned to site '{site['name']}'")


def _log(ctx: RequestContext, site: dict[str, Any], lic: dict[str, Any], change: str) -> None:
    log(ctx, SITE, site["id"], site["name"], change, model="SiteLicense")


def assign(ctx: RequestContext, inp: dict[str, Any]) -> dict[str, Any]:
    site, lic = site_ref(ctx, inp["site"]), _license(ctx, inp["licenseId"])
    held = [x for x in licenses_of(ctx, site["id"]) if x["id"] != lic["id"]]
    if held:
        raise invalid(
            f"Site '{site['name']}' already has license {held[0]['id']}: replace it (replaceSiteBwLicense)"
        )
    if lic in licenses_of(ctx, site["id"]):
        raise invalid(f"License {lic['id']} is already assigned to site '{site['name']}'")
    _take(ctx, lic, site, inp.get("bw"))
    _put(ctx, lic)
    _log(ctx, site, lic, "CREATED")
    return {"license": license_view(ctx, lic)}


def replace(ctx: RequestContext, inp: dict[str, Any]) -> dict[str, Any]:
    site = site_ref(ctx, inp["site"])
    old, new = _license(ctx, inp["licenseIdToRemove"]), _license(ctx, inp["licenseIdToAdd"])
    _held(ctx, old, site)
    if old["id"] == new["id"]:
        raise invalid("licenseIdToAdd and licenseIdToRemove are the same license")
    _release(old, site["id"])
    _take(ctx, new, site, inp.get("bw"))
    _put(ctx, old)
    _put(ctx, new)
    _log(ctx, site, new, "MODIFIED")
    return {"license": license_view(ctx, new)}


def update(ctx: RequestContext, inp: dict[str, Any]) -> dict[str, Any]:
    site, lic = site_ref(ctx, inp["site"]), _license(ctx, inp["licenseId"])
    _held(ctx, lic, site)
    if not _is_pool(lic):
        raise invalid(f"License {lic['id']} is a site license: only a pooled license's bw can be updated")
    if inp["bw"] <= 0:
        raise invalid("bw must be positive")
    _allocate(lic, site["id"], inp["bw"])
    _put(ctx, lic)
    _log(ctx, site, lic, "MODIFIED")
    return {"license": license_view(ctx, lic)}


def remove(ctx: RequestContext, inp: dict[str, Any]) -> dict[str, Any]:
    site, lic = site_ref(ctx, inp["site"]), _license(ctx, inp["licenseId"])
    _held(ctx, lic, site)
    _release(lic, site["id"])
    _put(ctx, lic)
    _log(ctx, site, lic, "DELETED")
    return {"license": license_view(ctx, lic)}


def _site_removed(ctx: RequestContext, gone: list[tuple[str, str]]) -> None:
    for kind, site_id in gone:
        if kind == SITE:
            for lic in licenses_of(ctx, site_id):
                _release(lic, site_id)
                _put(ctx, lic)


sites.ON_DELETE.append(_site_removed)


# -- reads --------------------------------------------------------------------------------------------
def _site(ctx: RequestContext, site_id: str | None) -> dict[str, str] | None:
    if site_id is None:
        return None
    rec = ctx.store.get(ctx.account_id, SITE, site_id)
    return {"id": site_id, "name": rec["name"]} if rec else None


def license_view(ctx: RequestContext, lic: dict[str, Any]) -> dict[str, Any]:
    common = {
        "__typename": "PooledBandwidthLicense" if _is_pool(lic) else "SiteLicense",
        "id": lic["id"],
        "description": lic.get("description"),
        "plan": lic["plan"],
        "sku": lic["sku"],
        "status": lic["status"],
        "startDate": lic["startDate"],
        "expirationDate": lic["expirationDate"],
        "lastUpdated": lic["startDate"],
        "total": lic["total"],
        "siteLicenseGroup": lic["siteLicenseGroup"],
        "siteLicenseType": "SSE" if "SSE" in lic["sku"] else "SASE",
    }
    if _is_pool(lic):
        allocated = [
            {"site": _site(ctx, k), "allocatedBandwidth": v} for k, v in (lic.get("sites") or {}).items()
        ]
        return common | {
            "accounts": [],
            "allocatedBandwidth": sum(a["allocatedBandwidth"] for a in allocated),
            "sites": allocated,
        }
    return common | {"site": _site(ctx, lic.get("siteId")), "regionality": "GLOBAL"}


@query("licensing")
def licensing(ctx: RequestContext, info, accountId: str) -> dict[str, Any]:
    def licensing_info(info):
        views = [license_view(ctx, lic) for lic in ctx.store.list(ctx.account_id, LICENSE)]
        return {
            "site": [v for v in views if v["__typename"] == "SiteLicense"],
            "pooledBandwidth": [v for v in views if v["__typename"] == "PooledBandwidthLicense"],
        }

    return {"licensingInfo": licensing_info}


SiteMutations.assignSiteBwLicense = lambda self, info, input: assign(self.ctx, input)  # type: ignore[attr-defined]
SiteMutations.replaceSiteBwLicense = lambda self, info, input: replace(self.ctx, input)  # type: ignore[attr-defined]
SiteMutations.updateSiteBwLicense = lambda self, info, input: update(self.ctx, input)  # type: ignore[attr-defined]
SiteMutations.removeSiteBwLicense = lambda self, info, input: remove(self.ctx, input)  # type: ignore[attr-defined]


# -- fixtures -------------------------------------------------------------------------------------
def _seed(ctx: RequestContext, raw: dict[str, Any]) -> None:
    sku = raw.get("sku", "CATO_SITE")
    lic = {
        "id": str(raw["id"]),
        "sku": sku,
        "plan": raw.get("plan", "COMMERCIAL"),
        "status": raw.get("status", "ACTIVE"),
        "total": int(raw["total"]),
        "description": raw.get("description"),
        "startDate": raw.get("start_date", "2025-01-01T00:00:00Z"),
        "expirationDate": raw.get("expiration_date", "2028-01-01T00:00:00Z"),
        "siteLicenseGroup": raw.get("site_license_group", "GROUP_1"),
        "siteId": None,
        "sites": {},
    }
    if ctx.store.get(ctx.account_id, LICENSE, lic["id"]) is not None:
        raise invalid(f"license id {lic['id']} is already in use")
    _put(ctx, lic)
    if raw.get("site"):
        assign(ctx, {"site": {"by": "NAME", "input": raw["site"]}, "licenseId": lic["id"]})
    for name, bw in (raw.get("sites") or {}).items():
        lic = _license(ctx, lic["id"])
        site = site_ref(ctx, {"by": "NAME", "input": name})
        _take(ctx, lic, site, int(bw))
        _put(ctx, lic)


@seeder
def seed_licenses(ctx: RequestContext, account: dict[str, Any]) -> None:
    for raw in account.get("licenses") or []:
        try:
            _seed(ctx, raw)
        except GraphQLError as e:
            raise ValueError(f"license {raw.get('id')!r}: {e.message}") from None
