"""UI-free session plumbing: settings carried by a link, the workspace, checkpoints in and out."""
