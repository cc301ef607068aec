"""podkit-redis-ambassador: one Redis on localhost; reads go to replicas, writes to the master."""

__version__ = "0.1.0"
