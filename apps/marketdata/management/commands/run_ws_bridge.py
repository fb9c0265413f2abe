"""`manage.py run_ws_bridge`: the `ws-bridge` role. It waits for its work to be built; until then it
starts, logs, answers `/health` and `/ready` and stops on SIGTERM."""

from oms.roles import WaitingRoleCommand


class Command(WaitingRoleCommand):
    help = "Run the ws-bridge role."
    role = "ws-bridge"
    waiting_for = "see the open issues for the ws-bridge role"
