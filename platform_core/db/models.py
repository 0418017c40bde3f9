"""Import every table module so ``Base.metadata`` is complete (Alembic and tests use this)."""

from platform_core.agent_settings import models as agent_settings_models
from platform_core.audit import models as audit_models
from platform_core.auth import models as auth_models
from platform_core.billing import models as billing_models
from platform_core.cluster import store as cluster_models
from platform_core.db.base import Base
from platform_core.incidents import models as incident_models
from platform_core.integrations import models as integration_models
from platform_core.notifications import models as notification_models
from platform_core.remediation import models as remediation_models
from platform_core.tenancy import models as tenancy_models

__all__ = [
    "Base",
    "agent_settings_models",
    "audit_models",
    "auth_models",
    "billing_models",
    "cluster_models",
    "incident_models",
    "integration_models",
    "notification_models",
    "remediation_models",
    "tenancy_models",
]
