"""Routes: `/api/balances`, `/api/ledger/deposits`, `/api/ledger/withdrawals`."""

from rest_framework.routers import SimpleRouter

from apps.processing.api.views import (
    BalanceViewSet,
    DepositViewSet,
    WithdrawalViewSet,
)

router = SimpleRouter(trailing_slash=False)
router.register("balances", BalanceViewSet, basename="balance")
router.register("ledger/deposits", DepositViewSet, basename="deposit")
router.register("ledger/withdrawals", WithdrawalViewSet, basename="withdrawal")

urlpatterns = router.urls
