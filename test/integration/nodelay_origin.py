#!/usr/bin/env python3
"""origin.py with TCP_NODELAY on its connections, for the cluster tests.

origin.py writes a response's headers and body in separate send() calls;
with Nagle's algorithm on, the body then waits for the client's delayed ACK
(~40 ms on Linux), which caps a keep-alive connection at ~25 requests per
second. The load-balancing tests send tens of thousands of small requests,
so they run origin.py with Nagle off (as nginx and most real servers do).
Same flags and behaviour as origin.py otherwise.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import origin  # noqa: E402

origin.Handler.disable_nagle_algorithm = True

if __name__ == "__main__":
    sys.exit(origin.main())
