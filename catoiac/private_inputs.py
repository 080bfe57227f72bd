"""Inputs the Pulumi layer adds to a resource's own, for the engine (``catoiac.resources.engine``).

Apart from the engine so that a Pulumi program, which only declares resources, can name them without
importing the engine.
"""

ADOPT_KEY = "__adopt_id"  # an input asking create() to adopt an existing object (brownfield import)
# Which resource of which program the inputs belong to ("<project>/<stack>/<type>::<name>"): dynamic
# providers are never told the URN, and ownership (journal) and in-program conflict checks need it.
OWNER_KEY = "__catoiac_owner"
