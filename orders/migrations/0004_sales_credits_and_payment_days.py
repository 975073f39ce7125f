"""Sales credits per order (existing orders: their primary rep, whole), and payments with a public
id and the organization-local day they were paid on."""
import uuid
import zoneinfo

import django.db.models.deletion
from django.db import migrations, models


def backfill(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    SalesCredit = apps.get_model("orders", "SalesCredit")
    Payment = apps.get_model("orders", "Payment")
    credits = [
        SalesCredit(order_id=order_id, sales_rep_id=rep_id, share=1, position=0)
        for order_id, rep_id in Order.objects.filter(primary_sales_rep__isnull=False).values_list(
            "pk", "primary_sales_rep_id").iterator()
    ]
    SalesCredit.objects.bulk_create(credits, batch_size=5000)
    for payment in Payment.objects.select_related("invoice__organization").iterator():
        zone = zoneinfo.ZoneInfo(payment.invoice.organization.time_zone)
        payment.public_id = uuid.uuid4()
        payment.paid_on = payment.paid_at.astimezone(zone).date()
        payment.save(update_fields=["public_id", "paid_on"])


class Migration(migrations.Migration):

    dependencies = [
        ("orders", "0003_identifier_characters"),
        ("salesreps", "0002_identifier_characters"),
    ]

    operations = [
        migrations.CreateModel(
            name="SalesCredit",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("share", models.DecimalField(decimal_places=4, max_digits=5)),
                ("position", models.PositiveIntegerField()),
                ("order", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="sales_credits",
                                            to="orders.order")),
                ("sales_rep", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT,
                                                related_name="sales_credits", to="salesreps.organizationsalesrep")),
            ],
            options={
                "ordering": ["position"],
                "indexes": [models.Index(fields=["sales_rep", "order"], name="sales_credit_by_rep")],
                "constraints": [
                    models.UniqueConstraint(fields=("order", "sales_rep"), name="sales_credit_rep_once_per_order"),
                    models.UniqueConstraint(fields=("order", "position"), name="sales_credit_position_unique"),
                    models.CheckConstraint(condition=models.Q(("share__gt", 0), ("share__lte", 1)),
                                           name="sales_credit_share_0_to_1",
                                           violation_error_message="A share is above 0 and at most 1."),
                ],
            },
        ),
        migrations.AlterModelOptions(name="payment", options={"ordering": ["pk"]}),
        migrations.AddField(model_name="payment", name="public_id",
                            field=models.UUIDField(editable=False, null=True, verbose_name="PaymentId")),
        migrations.AddField(model_name="payment", name="paid_on", field=models.DateField(editable=False, null=True)),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AlterField(model_name="payment", name="public_id",
                              field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True,
                                                     verbose_name="PaymentId")),
        migrations.AlterField(model_name="payment", name="paid_on", field=models.DateField(editable=False)),
        migrations.AddIndex(model_name="payment",
                            index=models.Index(fields=["invoice", "paid_on"], name="payment_by_invoice_and_day")),
    ]
