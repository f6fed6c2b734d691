"""Another DC-09 receiver for `vakt bench compare`: pysiaalarm's asyncio TCP server.

Usage: python pysiaalarm_receiver.py PORT ACCOUNT[,ACCOUNT...]

It decodes each frame, checks its CRC, length, account and timestamp, and answers ACK; it
keeps nothing (no journal), so it does less than Vakt for each signal.
"""

import asyncio
import sys

from pysiaalarm.aio import SIAAccount, SIAClient


async def main(port: int, accounts: list[str]) -> None:
    async def on_event(_event) -> None:
        return None

    client = SIAClient(
        "127.0.0.1",
        port,
        [SIAAccount(account) for account in accounts],
        function=on_event,
    )
    await client.async_start()
    print(f"listening on 127.0.0.1:{port}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2].split(",")))
