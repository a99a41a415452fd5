"""Least-privilege ACLs per principal, derived from the topology and applied idempotently."""

from conveyor.acls.apply import AclAdmin, AclApplyError, AclPlan, apply, plan
from conveyor.acls.rules import Grant, derive, principals

__all__ = ["AclAdmin", "AclApplyError", "AclPlan", "Grant", "apply", "derive", "plan", "principals"]
