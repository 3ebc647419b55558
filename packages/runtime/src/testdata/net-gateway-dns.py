# Run in network mode `sandbox` with the gateway's nameservers set to the test's fake DNS server
# on the host's 127.0.0.1: asks 10.0.2.3 for MX, TXT, SRV and PTR records over UDP and TCP, a
# reply too large for UDP (truncated, then whole over TCP), a name the upstream never answers
# (SERVFAIL), malformed queries (no reply), and a name only the nameserver knows through the C
# library's resolver.
import socket, struct

SERVER = ('10.0.2.3', 53)
TYPES = {'A': 1, 'PTR': 12, 'MX': 15, 'TXT': 16, 'SRV': 33}


def query(name, qtype, ident):
    q = struct.pack('>HHHHHH', ident, 0x0100, 1, 0, 0, 0)
    q += b''.join(bytes([len(p)]) + p.encode() for p in name.split('.')) + b'\0'
    return q + struct.pack('>HH', TYPES[qtype], 1)


def read_name(m, off):
    labels = []
    end = None
    while True:
        n = m[off]
        if n == 0:
            off += 1
            break
        if n >= 0xc0:
            if end is None:
                end = off + 2
            off = ((n & 0x3f) << 8) | m[off + 1]
            continue
        labels.append(m[off + 1:off + 1 + n].decode())
        off += 1 + n
    return '.'.join(labels), end if end is not None else off


def decode(m):
    ident, flags, qd, an, ns, ar = struct.unpack('>HHHHHH', m[:12])
    off = 12
    for _ in range(qd):
        off = read_name(m, off)[1] + 4
    out = []
    for _ in range(an):
        off = read_name(m, off)[1]
        rtype, _, _, rdlen = struct.unpack('>HHIH', m[off:off + 10])
        rd = off + 10
        if rtype == TYPES['MX']:
            out.append((struct.unpack('>H', m[rd:rd + 2])[0], read_name(m, rd + 2)[0]))
        elif rtype == TYPES['TXT']:
            strings, i = [], rd
            while i < rd + rdlen:
                strings.append(m[i + 1:i + 1 + m[i]].decode())
                i += 1 + m[i]
            out.append(''.join(strings) if len(strings[0]) < 50 else len(''.join(strings)))
        elif rtype == TYPES['SRV']:
            out.append(struct.unpack('>HHH', m[rd:rd + 6]) + (read_name(m, rd + 6)[0],))
        elif rtype == TYPES['PTR']:
            out.append(read_name(m, rd)[0])
        elif rtype == TYPES['A']:
            out.append(socket.inet_ntoa(m[rd:rd + 4]))
        off = rd + rdlen
    return ident, flags & 0xf, bool(flags & 0x200), out


def udp(q, timeout=20):
    d = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    d.settimeout(timeout)
    d.sendto(q, SERVER)
    try:
        r, _ = d.recvfrom(65536)
        return r
    except socket.timeout:
        return None
    finally:
        d.close()


def tcp(q):
    t = socket.create_connection(SERVER, timeout=20)
    t.sendall(struct.pack('>H', len(q)) + q)
    got = b''
    while len(got) < 2 or len(got) < 2 + struct.unpack('>H', got[:2])[0]:
        b = t.recv(65536)
        if not b:
            break
        got += b
    t.close()
    return got[2:]


for i, (name, qtype) in enumerate([('mx.test', 'MX'), ('txt.test', 'TXT'), ('_sip._tcp.srv.test', 'SRV'),
                                   ('7.2.0.192.in-addr.arpa', 'PTR')]):
    print(qtype, 'udp', decode(udp(query(name, qtype, 0x100 + i))))
    print(qtype, 'tcp', decode(tcp(query(name, qtype, 0x200 + i))))
big = udp(query('big.test', 'TXT', 0x300))
print('big udp', len(big) <= 512, decode(big))
print('big tcp', decode(tcp(query('big.test', 'TXT', 0x301))))
print('silent', decode(udp(query('silent.test', 'MX', 0x400))))
# Malformed: a response, two questions, a cut question, random bytes: no reply to any.
q = query('mx.test', 'MX', 0x500)
for bad in (q[:2] + b'\x81' + q[3:], q[:5] + b'\x02' + q[6:], q[:-3], b'\xff' * 7):
    print('malformed', udp(bad, timeout=0.5))
print('after malformed', decode(udp(q)))
print('getaddrinfo ns-only.test', sorted({a[4][0] for a in socket.getaddrinfo('ns-only.test', 80, socket.AF_INET)}))
