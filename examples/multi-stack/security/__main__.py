"""The security team's sections of the internet firewall: threat blocking, evaluated last."""

import pulumi
import pulumi_cato as cato

policy = cato.InternetFirewallPolicy(
    "threats",
    sections=[
        {
            "name": "Threat Protection",
            "rules": [
                {
                    "name": "Block malware and phishing",
                    "destination": {"app_category": ["Malware", "Phishing", "Botnets"]},
                    "tracking": {
                        "event": {"enabled": True},
                        "alert": {"enabled": True, "frequency": "IMMEDIATE"},
                    },
                },
                {
                    "name": "Block anonymizers and P2P",
                    "destination": {"app_category": ["Anonymizers", "P2P"]},
                },
            ],
        }
    ],
)

pulumi.export("policy", policy.id)
