"""Authentication: passwords, access/refresh/service tokens, API keys, revocation, rate limits."""
