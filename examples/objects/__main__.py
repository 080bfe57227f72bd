"""Cato objects beside a site's inventory: a branch whose native range hands out addresses by DHCP
(with a backup WAN link and a LAN LAG),
an Azure VNet connected over IPsec IKEv2 (two primary tunnels and a secondary one, keys from
secret config), licenses for both, an app connector group in the data center, a private app
published through it and the private access rule that uses it, and the admins who run it all."""

import pulumi
import pulumi_cato as cato

config = pulumi.Config("objects")

# A Socket site whose native range has its local IP, DHCP and mDNS set (the settings of the range
# the site's create makes: they are the site's inputs).
madrid = cato.SocketSite(
    "madrid",
    name="Madrid Branch",
    connection_type="SOCKET_X1600",
    native_range="10.150.0.0/24",
    location={"country_code": "ES", "city": "Madrid", "timezone": "Europe/Madrid"},
    local_ip="10.150.0.254",
    dhcp={"type": "DHCP_RANGE", "ip_range": "10.150.0.100-10.150.0.199"},
    mdns_reflector=True,
)

# Its ports (an X1600: INT_1/INT_2 are WAN ports, INT_5 holds the native range): a backup WAN link
# on INT_2 (its bandwidth and role), and a LAG of INT_6 (the master, with its LAN) and INT_7.
cato.SocketInterface(
    "madrid-wan2",
    site_id=madrid.id,
    interface_id="INT_2",
    dest_type="CATO",
    name="LTE backup",
    upstream_bandwidth=20,
    downstream_bandwidth=50,
    role="wan_2",
    precedence="PASSIVE",
)
lag_master = cato.SocketInterface(
    "madrid-lag",
    site_id=madrid.id,
    interface_id="INT_6",
    dest_type="LAN_LAG_MASTER",
    name="Core switch",
    subnet="10.151.0.0/24",
    local_ip="10.151.0.1",
    lag_min_links=1,
)
cato.SocketInterface(
    "madrid-lag-member",
    site_id=madrid.id,
    interface_id="INT_7",
    dest_type="LAN_LAG_MEMBER",
    opts=pulumi.ResourceOptions(depends_on=[lag_master]),  # a member joins an existing master
)

# An IPsec IKEv2 site: Cato initiates to the Azure VPN gateway's public IPs (BIDIRECTIONAL).
azure = cato.IpsecSite(
    "azure-east",
    name="Azure East US",
    site_type="CLOUD_DC",
    native_range="10.160.0.0/16",
    location={"country_code": "US", "state_code": "US-VA", "city": "Boydton", "timezone": "America/New_York"},
    connection_mode="BIDIRECTIONAL",
    init_message={"cipher": "AES_GCM_256", "dh_group": "DH_19_ECP256", "prf": "SHA256"},
    auth_message={"cipher": "AES_GCM_256", "dh_group": "DH_19_ECP256"},
    network_ranges=["vnet:10.160.0.0/16"],
    primary={
        "tunnels": [
            {"name": "gw-a", "public_site_ip": "20.1.10.4", "psk": config.require_secret("pskPrimaryA"),
             "last_mile_bw": {"downstream": 500, "upstream": 500}},
            {"name": "gw-b", "public_site_ip": "20.1.10.5", "psk": config.require_secret("pskPrimaryB"), "role": "WAN2"},
        ],
    },
    secondary={"tunnels": [{"name": "dr", "public_site_ip": "20.2.10.4", "psk": config.require_secret("pskSecondary")}]},
)  # fmt: skip

# Licenses: the branch takes a site license, the cloud site a share of the pool.
cato.SiteLicense("madrid-license", site_id=madrid.id, license_id="lic-site-madrid")
cato.SiteLicense("azure-license", site_id=azure.id, license_id="lic-pool-cloud", bw=300)

# Private access: a connector group in the data center, an app published through it, and the rule
# that lets staff in. The rule names the app through its output, so Pulumi creates the app first.
connector = cato.AppConnector(
    "dc-connector",
    name="dc-connector-1",
    group_name="dc-east",
    type="VIRTUAL",
    location={"country_code": "US", "city": "Ashburn", "state_code": "US-VA", "timezone": "America/New_York"},
    preferred_pop_location={"automatic": False, "preferred_only": False, "primary": "New York"},
)
wiki = cato.PrivateApp(
    "wiki",
    name="Wiki",
    internal_app_address="wiki.corp.example",
    protocol_ports=[{"protocol": "TCP", "port": [443]}],
    private_app_probing={"type": "ICMP_PING", "interval": 10, "fault_threshold_down": 3},
    published=True,
    published_app_domain={
        "published_app_domain": "wiki.example.com",
        "connector_group_name": connector.group_name,
    },
)
cato.PrivateAccessPolicy(
    "private-access",
    sections=[{"name": "Staff apps", "rules": [{"name": "Staff to the wiki", "applications": {"application": [wiki.name]}}]}],
)  # fmt: skip

# The people: a network admin limited to the two sites, and an auditor.
cato.Admin(
    "noa",
    email="noa.levi@example.com",
    first_name="Noa",
    last_name="Levi",
    managed_roles=[
        {"role": "Network admin", "allowed_entities": [{"type": "site", "id": madrid.id}, {"type": "site", "id": azure.id}]}
    ],
)  # fmt: skip
cato.Admin(
    "sam",
    email="sam.ortiz@example.com",
    first_name="Sam",
    last_name="Ortiz",
    managed_roles=[{"role": "Auditors"}],
)

pulumi.export("madrid_site_id", madrid.id)
pulumi.export("azure_site_id", azure.id)
pulumi.export("wiki_app_id", wiki.id)
