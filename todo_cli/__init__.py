"""The `todo` command: runs the local stack (`todo up`), one component (`todo serve`), dev tokens."""
