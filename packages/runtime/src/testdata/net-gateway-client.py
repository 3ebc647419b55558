# Run in network mode `sandbox`: reaches the test's servers on the host's 127.0.0.1:PORT through
# the gateway (10.0.2.2), asks the gateway's DNS server (10.0.2.3) directly, and checks that a
# closed host port is refused.
import os, socket, struct, sys

from net_gateway_common import transport


tcp_port, udp_port, closed_port = map(int, sys.argv[1:4])
transport(socket.AF_INET, '10.0.2.2', tcp_port, udp_port, closed_port, (1473, 9000, 65507))

print('resolv.conf', open('/etc/resolv.conf').read().split())
def query(name, qtype):
    q = struct.pack('>HHHHHH', 0x1234, 0x0100, 1, 0, 0, 0)
    q += b''.join(bytes([len(p)]) + p.encode() for p in name.split('.')) + b'\0' + struct.pack('>HH', qtype, 1)
    d = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    d.settimeout(20)
    d.sendto(q, ('10.0.2.3', 53))
    r, _ = d.recvfrom(512)
    ident, flags, qd, an = struct.unpack('>HHHH', r[:8])
    answers = []
    off = len(q)
    for _ in range(an):
        rtype, rclass, ttl, rdlen = struct.unpack('>HHIH', r[off + 2:off + 12])
        answers.append(socket.inet_ntop(socket.AF_INET if rtype == 1 else socket.AF_INET6, r[off + 12:off + 12 + rdlen]))
        off += 12 + rdlen
    return ident == 0x1234, flags & 0xf, sorted(answers)
print('dns localhost A', query('localhost', 1))
# The same server over TCP (what a resolver does after a truncated answer), two queries on one
# connection.
def query_tcp(names):
    t = socket.create_connection(('10.0.2.3', 53), timeout=20)
    for i, name in enumerate(names):
        q = struct.pack('>HHHHHH', 0x4321 + i, 0x0100, 1, 0, 0, 0)
        q += b''.join(bytes([len(p)]) + p.encode() for p in name.split('.')) + b'\0' + struct.pack('>HH', 1, 1)
        t.sendall(struct.pack('>H', len(q)) + q)
    t.shutdown(socket.SHUT_WR)
    got = b''
    while True:
        b = t.recv(4096)
        if not b:
            break
        got += b
    out = []
    while got:
        n = struct.unpack('>H', got[:2])[0]
        r, got = got[2:2 + n], got[2 + n:]
        ident, flags, qd, an = struct.unpack('>HHHH', r[:8])
        out.append((hex(ident), flags & 0xf, an, socket.inet_ntoa(r[-4:]) if an else None))
    return out
print('dns over tcp', query_tcp(['localhost', 'no.such.name.invalid']))
# 10.0.2.3 serves DNS only: its other ports are refused, never looked for on the host's network.
try:
    socket.create_connection(('10.0.2.3', 80), timeout=20)
    print('10.0.2.3:80 refused', False)
except ConnectionRefusedError:
    print('10.0.2.3:80 refused', True)
o = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
o.settimeout(20)
o.connect(('10.0.2.3', 5353))
o.send(b'x')
try:
    o.recv(10)
    print('10.0.2.3:5353 udp refused', False)
except ConnectionRefusedError:
    print('10.0.2.3:5353 udp refused', True)
print('dns no.such.name.invalid A', query('no.such.name.invalid', 1))
# The C library's resolver uses the same server for names /etc/hosts does not know.
try:
    socket.getaddrinfo('no.such.name.invalid', 80)
    print('getaddrinfo of a missing name', 'resolved?')
except socket.gaierror as e:
    print('getaddrinfo of a missing name', e.errno == socket.EAI_NONAME)
