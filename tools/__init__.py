"""Platform operations as LLM tools: typed, risk-rated, permission-checked, tenant-scoped."""
