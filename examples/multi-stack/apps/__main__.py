"""The applications team's sections of the internet firewall: SaaS access, right after Baseline."""

import pulumi
import pulumi_cato as cato

policy = cato.InternetFirewallPolicy(
    "saas",
    # Where this stack's first section goes when it owns none yet: right after the Baseline
    # section (someone else's). Without it, sections are created at the end of the policy.
    after_section="Baseline",
    sections=[
        {
            "name": "SaaS Access",
            "rules": [
                {
                    "name": "Allow collaboration apps",
                    "action": "ALLOW",
                    "destination": {"application": [{"id": "box"}, {"id": "dropbox"}, {"name": "ChatGPT"}]},
                    "service": {"standard": ["HTTPS"]},
                },
            ],
        },
        {
            "name": "SaaS Restrictions",
            "rules": [{"name": "Block social media", "destination": {"app_category": ["Social"]}}],
        },
    ],
)

pulumi.export("policy", policy.id)
