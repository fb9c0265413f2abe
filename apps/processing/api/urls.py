"""Routes: `/api/balances`, `/api/ledger/deposits`, `/api/ledger/withdrawals`,
`/api/risk/validate`, `/api/risk/headroom`."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.processing.api.headroom import HeadroomView
from apps.processing.api.views import (
    BalanceViewSet,
    DepositViewSet,
    WithdrawalViewSet,
)

router = SimpleRouter(trailing_slash=False)
router.register("balances", BalanceViewSet, basename="balance")
router.register("ledger/deposits", DepositViewSet, basename="deposit")
router.register("ledger/withdrawals", WithdrawalViewSet, basename="withdrawal")

urlpatterns = [path("risk/headroom", HeadroomView.as_view(), name="risk-headroom"),
               *router.urls]
