"""podkit-git-sync: keeps a shared volume in sync with a git repository (git-sync v4 compatible)."""
