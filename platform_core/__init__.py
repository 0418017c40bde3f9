"""platform_core package."""
