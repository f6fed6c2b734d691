"""Drive the PyPI DC-09 dialler `my-dc09-spt` (not written by this project) against Vakt.

Usage: dc09_spt_peer.py HOST PORT

Sends SIA DC-03 and Contact ID events, plain and encrypted (AES-128 and AES-256), over TCP
and UDP, each through the dialler's own send-and-check routine (`transfer_msg`), which
verifies the answer's CRC, length, sequence and, for encrypted answers, decrypts them.
Prints one JSON line per message: the account, the sequence number and whether the
dialler accepted the answer as an ACK. Exits non-zero if any message was not acknowledged.
"""

import json
import sys

from my_dc09_spt import dc09_spt
from my_dc09_spt.msg.dc03_msg import dc03_msg
from my_dc09_spt.msg.dc05_msg import dc05_msg

HOST, PORT = sys.argv[1], int(sys.argv[2])

# account -> key (None: plain). The keys are 16 and 32 ASCII characters: AES-128 and AES-256.
ACCOUNTS = {
    "7001": None,
    "7002": b"Vakt-peer-key-16",
    "7003": b"Vakt-peer-key-0123456789-32bytes",
}

ok = True
sequence = 0
for account, key in ACCOUNTS.items():
    for transport in ("TCP", "UDP"):
        spt = dc09_spt.dc09_spt(account)
        spt.set_path("main", "primary", HOST, PORT, account=account, key=key, line=0, type=transport)
        path = spt.tpaths["main"]["primary"]["path"]
        messages = [
            ("SIA-DCS", dc03_msg.dc03event(account, {"code": "BA", "zone": 12, "area": 1})),
            ("ADM-CID", dc05_msg.dc05event(account, {"code": 130, "q": 1, "zone": 15, "area": 2})),
            ("SIA-DCS", dc03_msg.dc03event(account, {"code": "CL", "user": 3, "area": 1})),
            ("ADM-CID", dc05_msg.dc05event(account, {"code": 401, "q": 1, "user": 4, "area": 1})),
        ]
        for mtype, message in messages:
            sequence += 1
            acked = spt.transfer_msg(sequence, mtype, message, path)
            ok = ok and acked
            print(json.dumps({"account": account, "sequence": sequence, "token": mtype,
                              "transport": transport.lower(), "encrypted": key is not None,
                              "acked": acked}), flush=True)

sys.exit(0 if ok else 1)
