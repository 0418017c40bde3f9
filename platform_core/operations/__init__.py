"""Platform operations that change both the platform's records and the cluster.

The tenancy services own the records; the cluster gateway owns the cluster. These functions do
both, in the order that keeps them consistent: the record first (so a failure to reach the
cluster leaves an honest ``provisioning`` row that a later sync resolves), then the cluster.
Used alike by the REST API, the agent's tools and the scheduler.
"""
