from rest_framework import serializers


class AuditEventSerializer(serializers.Serializer):
    AuditEventId = serializers.CharField(source="pk")
    OccurredAt = serializers.DateTimeField(source="occurred_at")
    Actor = serializers.CharField(source="actor", help_text="A user's email, `api-client:<name>`, `schedule` or "
                                                            "`system`.")
    ObjectType = serializers.CharField(source="object_type", help_text="Customer, Product, Order, Invoice, …")
    ObjectId = serializers.CharField(source="object_id", help_text="The CustomerNumber, Sku, OrderNumber, … where "
                                                                   "the record has one, else its id.")
    Action = serializers.CharField(source="action", help_text="created, updated, activated, cancelled, paid, …")
    Changes = serializers.DictField(
        source="changes", child=serializers.ListField(child=serializers.JSONField(), min_length=2, max_length=2),
        help_text="Each changed field with [old, new]; decimals as exact text. Never a password, secret or token.")
