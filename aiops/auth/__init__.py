"""Sign-in, token refresh, logout, the caller's identity and the JWKS."""
