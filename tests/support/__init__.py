"""Helpers every test package shares: free loopback ports and child processes that always stop."""
