"""GraphQL at ``/graphql`` (issue 16): the seeds' own API, with their names.

The resolvers are thin adapters over the same domain functions REST calls;
``context`` authenticates as REST does, ``errors`` gives every refusal its
stable code in ``extensions.error.code``, ``schema`` joins the per-area
modules (``offers``, ``lifecycle``, ...) into one schema, ``router`` mounts it.
"""
