"""Plans, subscription and usage."""
