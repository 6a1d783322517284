"""Health endpoints for proxies and orchestrators."""
