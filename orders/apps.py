from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # billing sits below orders: it reports payment events through its registry
        # (DESIGN.md section 2), called inside the transaction that records the event.
        from billing import hooks
        from orders import payments

        hooks.register("order_deposit", payments.deposit_event)
        hooks.register("order_balance", payments.balance_event)
