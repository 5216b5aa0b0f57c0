from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # billing and audio sit below orders: they report what happened through their
        # registries (DESIGN.md section 2), inside the transaction that records it.
        from audio.registry import asset_outcome_handler_register
        from billing import hooks
        from orders import payments
        from orders.services import delivery_asset_settled, version_asset_settled

        hooks.register("order_deposit", payments.deposit_event)
        hooks.register("order_balance", payments.balance_event)
        asset_outcome_handler_register(purpose="preview", handler=version_asset_settled)
        asset_outcome_handler_register(purpose="delivery", handler=delivery_asset_settled)
