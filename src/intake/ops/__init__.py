"""The operators' dashboard at ``/ops``: server-rendered, signed-cookie sign-in."""
