# Network mode `host`: opens a TCP listener, two connections to it (one from an AF_INET6 socket)
# and two UDP sockets,
# then prints what the sandbox's /proc shows of them, as JSON: the ports, each fd's socket:[N]
# inode (from /proc/self/fd), the parsed lines of /proc/net/{tcp,udp,tcp6,udp6}, the output of
# busybox `netstat -tuln`, the errno of a write to /proc/sys/net/ipv4/ip_local_port_range, and
# the interfaces and routes of /proc/net/{dev,route,if_inet6}.
# Then, given a directory argument, it keeps the sockets open until a file `done` appears there
# (at most 20 s), so the test can read the host's own view of the same sockets meanwhile.
import json
import os
import socket
import subprocess
import sys
import time


def inode(s):
    link = os.readlink(f"/proc/self/fd/{s.fileno()}")
    assert link.startswith("socket:[") and link.endswith("]"), link
    return int(link[8:-1])


def table(name):
    with open(f"/proc/net/{name}") as f:
        lines = f.read().split("\n")
    rows = []
    for line in lines[1:]:
        if not line.strip():
            continue
        fields = line.split()
        rows.append(
            {
                "local": fields[1],
                "remote": fields[2],
                "state": fields[3],
                "queues": fields[4],
                "uid": int(fields[7]),
                "inode": int(fields[9]),
                "width": len(line),
                "fields": fields,
            }
        )
    return rows


listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.bind(("127.0.0.1", 0))
listener.listen(5)
client = socket.create_connection(listener.getsockname())
server, _ = listener.accept()
client.sendall(b"unread")
# A dual-stack AF_INET6 client of the IPv4 listener: /proc/net/tcp6 shows it IPv4-mapped.
client6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
client6.connect(("::ffff:127.0.0.1", listener.getsockname()[1]))
server6, _ = listener.accept()
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.bind(("127.0.0.1", 0))
# An unbound sender, bound to an ephemeral port by its first sendto; its datagram waits unread.
sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sender.sendto(b"datagram", udp.getsockname())

try:
    with open("/proc/sys/net/ipv4/ip_local_port_range", "w") as f:
        f.write("40000 50000\n")
    sysctl_write = "ok"
except OSError as e:
    sysctl_write = os.strerror(e.errno)

with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
    port_range = f.read()

def lines(name):
    with open(f"/proc/net/{name}") as f:
        return f.read().split("\n")


netstat = subprocess.run(["busybox", "netstat", "-tuln"], capture_output=True, text=True)
print(
    json.dumps(
        {
            "listener": [listener.getsockname()[1], inode(listener)],
            "client": [client.getsockname()[1], inode(client)],
            "server": [server.getsockname()[1], inode(server)],
            "client6": [client6.getsockname()[1], inode(client6)],
            "server6": [server6.getpeername()[1], inode(server6)],
            "udp": [udp.getsockname()[1], inode(udp)],
            "sender": [sender.getsockname()[1], inode(sender)],
            "uid": os.getuid(),
            "tcp": table("tcp"),
            "udp_table": table("udp"),
            "tcp6": table("tcp6"),
            "udp6": table("udp6"),
            "netstat": netstat.stdout,
            "netstat_status": netstat.returncode,
            "sysctl_write": sysctl_write,
            "port_range": port_range,
            "dev": [l.split(":")[0].strip() for l in lines("dev")[2:] if l.strip()],
            "route": [l.split("\t")[:3] + [l.split("\t")[7]] for l in lines("route")[1:] if l.strip()],
            "if_inet6": [l.split() for l in lines("if_inet6") if l.strip()],
        }
    ),
    flush=True,
)
if len(sys.argv) > 1:
    deadline = time.monotonic() + 20
    while not os.path.exists(os.path.join(sys.argv[1], "done")) and time.monotonic() < deadline:
        time.sleep(0.02)
