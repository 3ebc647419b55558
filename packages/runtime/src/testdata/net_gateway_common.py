# Shared by net-gateway-client.py (IPv4) and net-gateway-ipv6.py: through the gateway's address
# `gw` (10.0.2.2 or fd00::2, the host's loopback), an echo of 256 KiB over TCP, a UDP ping,
# datagrams past eth0's MTU (which cross it in fragments), and a refused closed port.
import socket


def transport(family, gw, tcp_port, udp_port, closed_port, sizes, show_local=False):
    c = socket.create_connection((gw, tcp_port), timeout=20)
    if show_local:
        print('tcp local', c.getsockname()[0])
    blob = bytes(range(256)) * 1024
    c.sendall(blob)
    c.shutdown(socket.SHUT_WR)
    got = b''
    while True:
        b = c.recv(65536)
        if not b:
            break
        got += b
    print('tcp echo of 256 KiB', got == blob)
    u = socket.socket(family, socket.SOCK_DGRAM)
    u.settimeout(20)
    u.sendto(b'udp ping', (gw, udp_port))
    data, peer = u.recvfrom(100)
    print('udp reply', data, peer[:2] == (gw, udp_port))
    # Past eth0's MTU (65520) a datagram leaves and comes back in fragments.
    for n in sizes:
        u.sendto(b'j' * n, (gw, udp_port))
        data, peer = u.recvfrom(65536)
        print('udp echo of', n, 'bytes', data == b'J' * n)
    try:
        socket.create_connection((gw, closed_port), timeout=20)
        print('closed port refused', False)
    except ConnectionRefusedError:
        print('closed port refused', True)
