"""FastAPI intake: routes stay thin (validate -> domain or job -> respond)."""
