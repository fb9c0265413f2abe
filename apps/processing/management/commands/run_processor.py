"""`manage.py run_processor`: the `processor` role. It waits for its work to be built; until then it
starts, logs, answers `/health` and `/ready` and stops on SIGTERM."""

from oms.roles import WaitingRoleCommand


class Command(WaitingRoleCommand):
    help = "Run the processor role."
    role = "processor"
    waiting_for = "see the open issues for the processor role"
