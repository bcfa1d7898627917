"""The REST API under ``/api/v1``: one router per service; every route names the IAM action it needs."""
