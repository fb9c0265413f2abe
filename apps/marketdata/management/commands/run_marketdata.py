"""`manage.py run_marketdata`: the `marketdata` role. It waits for its work to be built;
until then it starts, logs, answers `/health` and `/ready` and stops on SIGTERM."""

from oms.roles import WaitingRoleCommand


class Command(WaitingRoleCommand):
    help = "Run the marketdata role."
    role = "marketdata"
    waiting_for = "see the open issues for the marketdata role"
