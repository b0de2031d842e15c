"""The AWS emulator the tests run: moto's server, with DynamoDB requests
handled one at a time.

Moto runs each request on its own thread, and its TransactWriteItems keeps
a deep copy of every table it touches and puts that copy back when a
condition fails. A write another thread made in the meantime is then
silently undone, which DynamoDB never does: its transactions are atomic and
isolated. Under the fault test's concurrent retries and redeliveries that
erased committed status changes. Serialising DynamoDB requests (they are
short; SQS long polls, which are not, stay concurrent) gives the tests
DynamoDB's semantics back.

Usage: python tests/moto_server.py -H 127.0.0.1 -p PORT (moto_server's flags).
"""

import sys
import threading

from moto.dynamodb.responses import DynamoHandler
from moto.server import main

_one_at_a_time = threading.Lock()
_call_action = DynamoHandler.call_action


def _serialised_call_action(self):
    with _one_at_a_time:
        return _call_action(self)


DynamoHandler.call_action = _serialised_call_action

if __name__ == "__main__":
    sys.exit(main())
