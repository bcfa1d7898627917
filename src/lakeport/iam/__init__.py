"""Access control (IAM's role): who is calling, and may they do this action on this resource."""

from lakeport.iam.arns import bucket_arn, object_arn
from lakeport.iam.iam import IAM
from lakeport.iam.principal import Principal, service_principal

__all__ = ["IAM", "Principal", "bucket_arn", "object_arn", "service_principal"]
