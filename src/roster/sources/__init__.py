"""Directory sources for `roster sync-groups`: one module per kind of directory for the I/O,
the pure mapping from groups and rules to members, and the generated file."""
