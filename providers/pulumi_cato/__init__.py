"""pulumi_cato: Cato Networks resources for Pulumi, as a dynamic provider."""
