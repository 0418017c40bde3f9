"""Authorization: one ``authorize(subject, action, resource)`` over a permission table."""
