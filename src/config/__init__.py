"""Settings, logging and template environments: the lowest layer, built once and passed down."""
