"""Web Push: VAPID keys, subscriptions, the queue, the sender and the dispatcher (docs/security.md part 5).

``sync`` queues messages in its own transaction through :func:`enqueue`; this package never calls back into it.
"""

from server.push.dispatcher import Dispatcher, dispatcher_task
from server.push.models import PushJob, PushSubscription
from server.push.queue import CASE_ASSIGNED, REFERRAL_RECEIVED, SYNC_HINT, VISIT_ASSIGNED, enqueue
from server.push.vapid import VapidError, VapidKeys, load_or_create

__all__ = [
    "CASE_ASSIGNED",
    "REFERRAL_RECEIVED",
    "SYNC_HINT",
    "VISIT_ASSIGNED",
    "Dispatcher",
    "PushJob",
    "PushSubscription",
    "VapidError",
    "VapidKeys",
    "dispatcher_task",
    "enqueue",
    "load_or_create",
]
