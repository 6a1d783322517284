"""The admin console: people, their budgets and sessions, usage, and the security log."""
