"""The scheduler process: producers only, one leader at a time."""
