"""A branch office on Cato: a Socket site with its LAN ranges, static hosts, a WAN link, a second
LAN port, a BGP peer to the branch's core router, and a group that policies can use."""

import pulumi
import pulumi_cato as cato

config = pulumi.Config("branch")
name = config.get("name") or "Lisbon Branch"

site = cato.SocketSite(
    "site",
    name=name,
    connection_type="SOCKET_X1600",
    native_range="10.140.0.0/24",
    description="branch office managed by Pulumi",
    location={"country_code": "PT", "city": "Lisbon", "timezone": "Europe/Lisbon"},
)

# Ports of an X1600: INT_1/INT_2 are its WAN ports, INT_5 holds the native range (the site's own
# LAN), the others are free: the primary WAN link on INT_1, and INT_6 as a LAN for the servers.
wan = cato.SocketInterface(
    "wan1",
    site_id=site.id,
    interface_id="INT_1",
    dest_type="CATO",
    name="Fiber",
    upstream_bandwidth=100,
    downstream_bandwidth=500,
    role="wan_1",
    precedence="ACTIVE",
)
servers_port = cato.SocketInterface(
    "servers-port",
    site_id=site.id,
    interface_id="INT_6",
    dest_type="LAN",
    name="Servers",
    subnet="10.141.0.0/24",
    local_ip="10.141.0.1",
)

# Ranges: printers on the native range's port (INT_5 on an X1600: no interface needed), on a
# VLAN; a lab routed behind the servers port. Taking the interface from the port resource makes
# the range wait for the port to be a LAN.
printers = cato.NetworkRange(
    "printers",
    site_id=site.id,
    name="Printers",
    subnet="10.140.8.0/24",
    range_type="VLAN",
    vlan=40,
    local_ip="10.140.8.1",
)
lab = cato.NetworkRange(
    "lab",
    site_id=site.id,
    interface=servers_port.interface_id,
    name="Lab",
    subnet="10.142.0.0/24",
    range_type="Routed",
    gateway="10.141.0.254",
)

# Static hosts: an address must lie inside one of the site's ranges, so they wait for theirs.
printer = cato.StaticHost(
    "printer",
    site_id=site.id,
    name="printer-1",
    ip="10.140.8.10",
    mac_address="00:1a:2b:3c:4d:5e",
    opts=pulumi.ResourceOptions(depends_on=[printers]),
)
nas = cato.StaticHost("nas", site_id=site.id, name="nas", ip="10.140.0.20")

# BGP to the core router; the MD5 key comes from secret config (`pulumi config set --secret`).
core = cato.BgpPeer(
    "core-router",
    site_id=site.id,
    name="core-router",
    peer_ip="10.140.0.2",
    peer_asn=65010,
    cato_asn=65000,
    default_action="ACCEPT",
    md5_auth_key=config.require_secret("bgpMd5Key"),
    advertise_summary_routes=True,
    summary_route=[{"route": "10.140.0.0/14"}],
)

# A group for policies: members by id (from resources) or by the name Cato shows.
office = cato.Group(
    "office-devices",
    name=f"{name} devices",
    description="printers and storage of the branch",
    members=[
        {"type": "HOST", "id": printer.id},
        {"type": "HOST", "name": "nas"},
        {"type": "SITE_NETWORK_SUBNET", "id": printers.id},
    ],
    opts=pulumi.ResourceOptions(depends_on=[nas]),
)

pulumi.export("site_id", site.id)
pulumi.export("wan", wan.id)
pulumi.export("bgp_peer_id", core.id)
pulumi.export("group_id", office.id)
