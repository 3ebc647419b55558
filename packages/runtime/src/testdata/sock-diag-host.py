# Network mode `host` and NETLINK_SOCK_DIAG: opens a TCP listener, a connection to it (both ends
# held) and a UDP socket, all host sockets of the supervisor, then prints as JSON their ports and
# what iproute2's `ss` inside the sandbox says of them (filtered to their ports, so the host's
# other sockets are not in question). Given a directory argument, it then keeps the sockets
# open until a file `done` appears there (at most 20 s), so the test can run `ss` on the host
# meanwhile and compare.
import json
import os
import socket
import subprocess
import sys
import time

listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.bind(("127.0.0.1", 0))
listener.listen(5)
lport = listener.getsockname()[1]
client = socket.create_connection(("127.0.0.1", lport))
server, _ = listener.accept()
client.sendall(b"hello")
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.bind(("127.0.0.1", 0))
uport = udp.getsockname()[1]
time.sleep(0.2)


def ss(*args):
    r = subprocess.run(["ss", *args], capture_output=True, text=True)
    return {"status": r.returncode, "out": r.stdout, "err": r.stderr}


tcp = f"( sport = :{lport} or dport = :{lport} )"
print(
    json.dumps(
        {
            "lport": lport,
            "uport": uport,
            "tan": ss("-tanH", tcp),
            "tln": ss("-tlniH", f"sport = :{lport}"),
            "estab": ss("-tnH", "state", "established", f"( dport = :{lport} )"),
            "uan": ss("-uanH", f"sport = :{uport}"),
        }
    ),
    flush=True,
)
if len(sys.argv) > 1:
    done = os.path.join(sys.argv[1], "done")
    for _ in range(800):
        if os.path.exists(done):
            break
        time.sleep(0.025)
