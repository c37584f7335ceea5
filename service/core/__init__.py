"""Settings and shared service plumbing."""
