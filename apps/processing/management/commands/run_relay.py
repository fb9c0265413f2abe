"""`manage.py run_relay`: the `relay` role. It waits for its work to be built; until then it
starts, logs, answers `/health` and `/ready` and stops on SIGTERM."""

from oms.roles import WaitingRoleCommand


class Command(WaitingRoleCommand):
    help = "Run the relay role."
    role = "relay"
    waiting_for = "see the open issues for the relay role"
