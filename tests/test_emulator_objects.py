"""The emulator's objects over real HTTP, with Cato's business rules: IPsec IKEv2 sites and tunnels,
bandwidth licenses of sites, admins and roles, private applications and app connectors. Every
refused mutation leaves the account as it was (one transaction per request)."""

from __future__ import annotations

import pytest
from objects_support import PSKS, fixture, session_for

from catoiac.emulator.limits import RateLimitConfig
from catoiac.errors import CatoError, NotFoundError, ValidationError
from catoiac.resources.gql_schema import InputModel

LOC = {"countryCode": "US", "timezone": "America/New_York"}


@pytest.fixture
def emu(emulator_factory):
    return emulator_factory(fixture(), rate_limits=RateLimitConfig(enabled=False))


@pytest.fixture
def api(emu):
    session = session_for(emu)
    return session.client


def add_ipsec(api, name="Azure", subnet="10.60.0.0/24") -> str:
    data = api.execute(
        "AddIpsecIkeV2Site", {"input": {"name": name, "nativeNetworkRange": subnet, "siteLocation": LOC}}
    )
    return data["site"]["addIpsecIkeV2Site"]["siteId"]


def snapshot(api, site_id: str) -> dict:
    sites = api.execute("ReadSites", {})["accountSnapshot"]["sites"]
    return next(s for s in sites if s["id"] == site_id)


def add_tunnels(api, site_id: str, **roles) -> dict:
    return api.execute("AddIpsecIkeV2SiteTunnels", {"siteId": site_id, "input": roles})["site"][
        "addIpsecIkeV2SiteTunnels"
    ]


# -- IPsec sites --------------------------------------------------------------------------------------
def test_ipsec_site_shares_the_rules_of_sites_and_shows_as_ipsec_v2(api):
    site_id = add_ipsec(api)
    snap = snapshot(api, site_id)
    assert (
        snap["info"]["connType"] == "IPSEC_V2"
        and snap["info"]["interfaces"] == []
        and snap["info"]["ipsec"] == []
    )
    with pytest.raises(ValidationError, match="already in use"):
        add_ipsec(api, name="HQ", subnet="10.70.0.0/24")
    with pytest.raises(ValidationError, match="overlaps"):
        add_ipsec(api, name="Other", subnet="10.0.0.0/25")
    with pytest.raises(ValidationError, match="no Socket interfaces"):
        api.execute(
            "UpdateSocketInterface",
            {"siteId": site_id, "socketInterfaceId": "LAN1", "input": {"destType": "LAN"}},
        )
    items = api.execute("NetworkRangeList", {"site": {"by": "ID", "input": site_id}})["site"][
        "networkRangeList"
    ]["items"]
    assert [(r["rangeType"], r["subnet"]) for r in items] == [("Native", "10.60.0.0/24")]


def test_tunnels_take_the_lowest_free_id_of_their_role_and_at_most_three(api):
    site_id = add_ipsec(api)
    t = lambda ip: {"psk": PSKS[0], "publicSiteIp": ip}  # noqa: E731
    out = add_tunnels(
        api,
        site_id,
        primary={"tunnels": [t("203.0.113.1"), t("203.0.113.2")]},
        secondary={"tunnels": [t("198.51.100.1")]},
    )
    assert [x["tunnelId"] for x in out["primary"]["tunnels"]] == ["PRIMARY1", "PRIMARY2"]
    assert [x["tunnelId"] for x in out["secondary"]["tunnels"]] == ["SECONDARY1"]
    api.execute("RemoveIpsecIkeV2SiteTunnels", {"siteId": site_id, "input": {"tunnelId": ["PRIMARY1"]}})
    out = add_tunnels(api, site_id, primary={"tunnels": [t("203.0.113.3")]})
    assert [x["tunnelId"] for x in out["primary"]["tunnels"]] == ["PRIMARY1"]
    add_tunnels(api, site_id, primary={"tunnels": [t("203.0.113.4")]})
    with pytest.raises(ValidationError, match="at most 3 tunnels"):
        add_tunnels(api, site_id, primary={"tunnels": [t("203.0.113.5")]})
    info = snapshot(api, site_id)["info"]["ipsec"]
    assert info[0]["isPrimary"] and info[0]["ikeVersion"] == 2
    assert [(c["tunnelId"], c["tunnelRemoteIdentifier"]) for c in info[0]["tunnelConfig"]] == [
        ("PRIMARY1", "203.0.113.3"), ("PRIMARY2", "203.0.113.2"), ("PRIMARY3", "203.0.113.4")]  # fmt: skip


@pytest.mark.parametrize(
    ("general", "roles", "message"),
    [
        ({"identificationType": "FQDN"}, None, "RESPONDER_ONLY connection mode only"),
        ({"networkRanges": ["10.0.0.1/24"]}, None, "is not a subnet"),
        ({}, {"primary": {"destinationType": "FQDN", "tunnels": [{"psk": "k1234567"}]}}, "FQDN is available in RESPONDER_ONLY"),
        ({}, {"primary": {"tunnels": [{"psk": "k1", "publicSiteIp": "1.1.1.1"}, {"psk": "k2", "publicSiteIp": "1.1.1.1"}]}}, "own public site IP"),
        ({}, {"primary": {"tunnels": [{"psk": "k1", "privateCatoIp": "169.254.0.1"}]}}, "go together"),
        ({}, {"primary": {"tunnels": [{"psk": "k1", "privateCatoIp": "169.254.0.1", "privateSiteIp": "169.254.0.2"},
                                      {"psk": "k2"}]}}, "several active tunnels"),
        ({}, {"primary": {"tunnels": [{"psk": " "}]}}, "psk must not be empty"),
        ({}, {"primary": {"popLocationId": "999", "tunnels": [{"psk": "k1"}]}}, "PoP location 999 not found"),
        ({}, {"primary": {"publicCatoIpId": "nope", "tunnels": [{"psk": "k1"}]}}, "Allocated IP nope not found"),
        ({}, {"primary": {"tunnels": [{"psk": "k1", "lastMileBw": {"downstream": 0}}]}}, "must be positive"),
    ],
)  # fmt: skip
def test_ipsec_rules_refuse_and_leave_the_site_as_it_was(api, general, roles, message):
    site_id = add_ipsec(api)
    before = snapshot(api, site_id)
    with pytest.raises(CatoError, match=message):
        if general:
            api.execute("UpdateIpsecIkeV2SiteGeneralDetails", {"siteId": site_id, "input": general})
        else:
            add_tunnels(api, site_id, **roles)
    assert snapshot(api, site_id) == before


def test_updating_a_tunnel_keeps_what_it_leaves_out_and_an_unknown_tunnel_is_not_found(api):
    site_id = add_ipsec(api)
    add_tunnels(api, site_id, primary={"tunnels": [{"psk": PSKS[0], "publicSiteIp": "203.0.113.1"}]})
    api.execute("UpdateIpsecIkeV2SiteTunnels", {"siteId": site_id, "input": {"primary": {"tunnels": [
        {"tunnelId": "PRIMARY1", "publicSiteIp": "203.0.113.9"}]}}})  # fmt: skip
    assert (
        snapshot(api, site_id)["info"]["ipsec"][0]["tunnelConfig"][0]["tunnelRemoteIdentifier"]
        == "203.0.113.9"
    )
    with pytest.raises(NotFoundError, match="PRIMARY2"):
        api.execute(
            "UpdateIpsecIkeV2SiteTunnels",
            {"siteId": site_id, "input": {"primary": {"tunnels": [{"tunnelId": "PRIMARY2"}]}}},
        )
    with pytest.raises(NotFoundError, match="SECONDARY1"):
        api.execute("RemoveIpsecIkeV2SiteTunnels", {"siteId": site_id, "input": {"tunnelId": ["SECONDARY1"]}})


def test_ipsec_mutations_refuse_a_socket_site(api):
    hq = next(
        s["id"] for s in api.execute("ReadSites", {})["accountSnapshot"]["sites"] if s["info"]["name"] == "HQ"
    )
    with pytest.raises(ValidationError, match="not an IPsec IKEv2 site"):
        api.execute(
            "UpdateIpsecIkeV2SiteGeneralDetails", {"siteId": hq, "input": {"connectionMode": "BIDIRECTIONAL"}}
        )


# -- licenses -----------------------------------------------------------------------------------------
def site_ids(api) -> dict[str, str]:
    return {s["info"]["name"]: s["id"] for s in api.execute("ReadSites", {})["accountSnapshot"]["sites"]}


def license_state(api) -> dict:
    info = api.execute("SiteLicenses", {})["licensing"]["licensingInfo"]
    out = {lic["id"]: (lic["site"] or {}).get("name") for lic in info["site"]}
    out |= {
        lic["id"]: {s["site"]["name"]: s["allocatedBandwidth"] for s in lic["sites"]}
        for lic in info["pooledBandwidth"]
    }
    return out


@pytest.mark.parametrize(
    ("op", "body", "message"),
    [
        (
            "AssignSiteBwLicense",
            {"site": "Branch", "licenseId": "lic-nope"},
            "License with id lic-nope not found",
        ),
        ("AssignSiteBwLicense", {"site": "Branch", "licenseId": "lic-old"}, "is DISABLED"),
        ("AssignSiteBwLicense", {"site": "Branch", "licenseId": "lic-casb"}, "not a site bandwidth license"),
        (
            "AssignSiteBwLicense",
            {"site": "Branch", "licenseId": "lic-site-used"},
            "already assigned to site 'HQ'",
        ),
        (
            "AssignSiteBwLicense",
            {"site": "Branch", "licenseId": "lic-site-100", "bw": 10},
            "bw is only for pooled",
        ),
        ("AssignSiteBwLicense", {"site": "Branch", "licenseId": "lic-pool"}, "give the site's bw"),
        ("AssignSiteBwLicense", {"site": "Branch", "licenseId": "lic-pool", "bw": 401}, "400 Mbps left"),
        ("AssignSiteBwLicense", {"site": "HQ", "licenseId": "lic-site-100"}, "already has license"),
        (
            "UpdateSiteBwLicense",
            {"site": "HQ", "licenseId": "lic-site-used", "bw": 10},
            "only a pooled license",
        ),
        ("RemoveSiteBwLicense", {"site": "Branch", "licenseId": "lic-pool"}, "not assigned to site 'Branch'"),
    ],
)
def test_license_rules_refuse_and_leave_the_licenses_as_they_were(api, op, body, message):
    before = license_state(api)
    body = {**body, "site": {"by": "NAME", "input": body["site"]}}
    with pytest.raises(CatoError, match=message):
        api.execute(op, {"input": body})
    assert license_state(api) == before


def test_replace_swaps_licenses_in_one_step_and_removing_a_site_frees_its_licenses(api):
    ids = site_ids(api)
    api.execute("ReplaceSiteBwLicense", {"input": {"site": {"by": "ID", "input": ids["HQ"]},
                "licenseIdToRemove": "lic-site-used", "licenseIdToAdd": "lic-site-100"}})  # fmt: skip
    state = license_state(api)
    assert (
        state["lic-site-used"] is None and state["lic-site-100"] == "HQ" and state["lic-pool"] == {"HQ": 100}
    )
    api.execute("RemoveSite", {"siteId": ids["HQ"]})
    state = license_state(api)
    assert state["lic-site-100"] is None and state["lic-pool"] == {}


# -- admins -------------------------------------------------------------------------------------------
def admin(email="dana@example.com", **over) -> dict:
    return {"email": email, "firstName": "Dana", "lastName": "Cohen", "passwordNeverExpires": False,
            "managedRoles": [{"role": {"id": "1"}}], **over}  # fmt: skip


def test_admins_list_fixture_identities_and_added_admins_with_their_roles(api):
    roles = {r["name"]: r["id"] for r in api.execute("AccountRoles", {})["accountRoles"]["items"]}
    assert roles["Editor"] == "1" and roles["Viewer"] == "2" and roles["Auditors"] == "9001"
    new = api.execute("AddAdmin", {"input": admin(managedRoles=[{"role": {"id": "9001"}}])})["admin"][
        "addAdmin"
    ]["adminID"]
    items = {a["email"]: a for a in api.execute("Admins", {"limit": 50, "from": 0})["admins"]["items"]}
    assert set(items) == {"alice@example.com", "dana@example.com"}
    assert items["dana@example.com"]["managedRoles"][0]["role"] == {"id": "9001", "name": "Auditors"}
    api.execute("RemoveAdmin", {"adminID": new})
    assert [a["email"] for a in api.execute("Admins", {"limit": 50, "from": 0})["admins"]["items"]] == [
        "alice@example.com"
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (admin(email="not-an-email"), "is not an email address"),
        (admin(email="ALICE@example.com"), "already exists"),
        (admin(managedRoles=[{"role": {"id": "12345"}}]), "no role with id 12345"),
        (admin(firstName=" "), "firstName must not be empty"),
        (admin(resellerRoles=[{"role": {"id": "4"}}]), "not a reseller account"),
        (admin(adminType="SERVICE_PRINCIPLE"), "addServicePrincipalAdmin"),
        (
            admin(managedRoles=[{"role": {"id": "1"}, "allowedEntities": [{"id": "999", "type": "site"}]}]),
            "no site with id 999",
        ),
    ],
)
def test_admin_rules_refuse_and_add_nobody(api, body, message):
    with pytest.raises(CatoError, match=message):
        api.execute("AddAdmin", {"input": body})
    assert api.execute("Admins", {"limit": 50, "from": 0})["admins"]["total"] == 1


# -- private apps and app connectors ------------------------------------------------------------------
def test_private_app_names_are_unique_and_an_app_a_rule_uses_cannot_be_deleted(api):
    body = {
        "name": "Wiki",
        "internalAppAddress": "10.5.0.10",
        "protocolPorts": [{"protocol": "TCP", "port": [443]}],
    }
    api.execute("CreatePrivateApplication", {"input": body})
    with pytest.raises(ValidationError, match="already in use"):
        api.execute("CreatePrivateApplication", {"input": body})
    # A private access rule names the app by name: it resolves to the app (a real domain now).
    rule = InputModel("PrivateAccessAddRuleDataInput", {"PrivateAccessAddRuleDataInput.enabled": True})
    rev = api.execute("PrivateAccessCreateRevision", {"input": {"name": "r", "description": ""}})
    rev_id = rev["policy"]["privateAccess"]["createPolicyRevision"]["policy"]["revision"]["id"]
    data = rule.to_graphql({"name": "Staff to wiki", "applications": {"application": ["Wiki"]}})
    added = api.execute(
        "PrivateAccessAddRule",
        {"revisionId": rev_id, "input": {"rule": data, "at": {"position": "LAST_IN_POLICY"}}},
    )
    assert added["policy"]["privateAccess"]["addRule"]["status"] == "SUCCESS", added
    api.execute("PrivateAccessPublishRevision", {"revisionId": rev_id, "input": {}})
    with pytest.raises(ValidationError, match="used by private access rule"):
        api.execute(
            "DeletePrivateApplication", {"input": {"privateApplication": {"by": "NAME", "input": "Wiki"}}}
        )
    # An app that does not exist is an invalid entity of the rule.
    rev = api.execute("PrivateAccessCreateRevision", {"input": {"name": "r2", "description": ""}})
    rev_id = rev["policy"]["privateAccess"]["createPolicyRevision"]["policy"]["revision"]["id"]
    bad = rule.to_graphql({"name": "To nowhere", "applications": {"application": ["Nowhere"]}})
    with pytest.raises(CatoError, match="no privateApp with name 'Nowhere'"):
        api.execute(
            "PrivateAccessAddRule",
            {"revisionId": rev_id, "input": {"rule": bad, "at": {"position": "LAST_IN_POLICY"}}},
        )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"internalAppAddress": "not an fqdn!"}, "neither an IPv4 address nor an FQDN"),
        ({"protocolPorts": [{"protocol": "ICMP", "port": [1]}]}, "ICMP takes no ports"),
        ({"protocolPorts": [{"protocol": "TCP", "port": [70000]}]}, "not between 1 and 65535"),
        ({"protocolPorts": [{"protocol": "TCP", "portRange": {"from": 9, "to": 1}}]}, "is above to"),
        ({"published": True}, "needs publishedAppDomain"),
        ({"published": True, "publishedAppDomain": {"publishedAppDomain": "w.example.com", "connectorGroupName": "x"}},
         "no app connector group 'x'"),
        ({"privateAppProbing": {"type": "ICMP_PING", "interval": 0}}, "must be positive"),
    ],
)  # fmt: skip
def test_private_app_rules_refuse(api, body, message):
    with pytest.raises(CatoError, match=message):
        api.execute(
            "CreatePrivateApplication", {"input": {"name": "App", "internalAppAddress": "10.5.0.10", **body}}
        )


CONNECTOR = {"name": "c2", "groupName": "dc-west", "type": "PHYSICAL",
             "location": {"countryCode": "US", "city": "Chicago", "timezone": "America/Chicago"}}  # fmt: skip


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": "dc-connector-1"}, "already in use"),
        ({"description": "x" * 251}, "longer than 250"),
        ({"location": {"countryCode": "US", "city": "Narnia", "timezone": "America/Chicago"}}, "Invalid city"),
        ({"preferredPopLocation": {"automatic": False, "preferredOnly": False}}, "a primary PoP is needed"),
        ({"preferredPopLocation": {"automatic": False, "preferredOnly": True, "primary": {"by": "NAME", "input": "Atlantis"}}},
         "PoP location Atlantis not found"),
    ],
)  # fmt: skip
def test_app_connector_rules_refuse(api, body, message):
    with pytest.raises(CatoError, match=message):
        api.execute("AddZtnaAppConnector", {"input": {**CONNECTOR, **body}})


def test_the_last_connector_of_a_group_an_app_publishes_through_stays(api):
    api.execute("CreatePrivateApplication", {"input": {"name": "Pub", "internalAppAddress": "10.5.0.11", "published": True,
                "publishedAppDomain": {"publishedAppDomain": "pub.example.com", "connectorGroupName": "dc-east"}}})  # fmt: skip
    listed = api.execute("ZtnaAppConnectorList", {"input": {}})["ztnaAppConnector"]["ztnaAppConnectorList"]
    cid = listed["ztnaAppConnector"][0]["id"]
    with pytest.raises(ValidationError, match="publish through"):
        api.execute("RemoveZtnaAppConnector", {"input": {"ztnaAppConnector": {"by": "ID", "input": cid}}})
