# Run in network mode `sandbox` with IPv6: reaches the test's servers on the host's ::1 through
# the gateway's fd00::2, asks the gateway's DNS server on fd00::3 over UDP and TCP, and checks
# that a closed host port is refused and fd00::3's other UDP ports answer port unreachable.
import socket, struct, sys

from net_gateway_common import transport


tcp_port, udp_port, closed_port = map(int, sys.argv[1:4])
transport(socket.AF_INET6, 'fd00::2', tcp_port, udp_port, closed_port, (1500, 9000, 65507), show_local=True)

def question(ident, name, qtype):
    q = struct.pack('>HHHHHH', ident, 0x0100, 1, 0, 0, 0)
    return q + b''.join(bytes([len(p)]) + p.encode() for p in name.split('.')) + b'\0' + struct.pack('>HH', qtype, 1)

def answers(r, qlen):
    ident, flags, qd, an = struct.unpack('>HHHH', r[:8])
    out = []
    off = qlen
    for _ in range(an):
        rtype, rclass, ttl, rdlen = struct.unpack('>HHIH', r[off + 2:off + 12])
        out.append(socket.inet_ntop(socket.AF_INET if rtype == 1 else socket.AF_INET6, r[off + 12:off + 12 + rdlen]))
        off += 12 + rdlen
    return hex(ident), flags & 0xf, out

d = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
d.settimeout(20)
for ident, qtype in ((0x1111, 28), (0x2222, 1)):
    q = question(ident, 'dual.test', qtype)
    d.sendto(q, ('fd00::3', 53))
    r, peer = d.recvfrom(512)
    print('dns udp', qtype, peer[0], answers(r, len(q)))
t = socket.create_connection(('fd00::3', 53), timeout=20)
q = question(0x3333, 'dual.test', 28)
t.sendall(struct.pack('>H', len(q)) + q)
n = struct.unpack('>H', t.recv(2))[0]
r = b''
while len(r) < n:
    r += t.recv(n - len(r))
print('dns tcp', answers(r, len(q)))
print('getaddrinfo', sorted({a[4][0] for a in socket.getaddrinfo('dual.test', 80, socket.AF_INET6)}))
# fd00::3 serves DNS only: another UDP port gets ICMPv6 port unreachable (ECONNREFUSED on a
# connected socket), as 10.0.2.3's ICMP does.
o = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
o.settimeout(20)
o.connect(('fd00::3', 5353))
o.send(b'x')
try:
    o.recv(10)
    print('fd00::3:5353 udp refused', False)
except ConnectionRefusedError:
    print('fd00::3:5353 udp refused', True)
